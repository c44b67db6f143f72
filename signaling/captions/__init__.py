"""Live captions: lines typed on ``/caption/{session}`` (or heard by a recognizer), kept
per session and language, delivered to the pages watching, exported as WebVTT."""
