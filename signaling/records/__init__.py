"""As-run records: what really aired where, from what the media plane did."""
