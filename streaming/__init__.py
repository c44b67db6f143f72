"""Media plane: WHIP ingest, WHEP egress, decode-free forwarding, venue outputs."""
