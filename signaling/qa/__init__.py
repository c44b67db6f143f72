"""Q&A rooms: the pure state machine, its events, limits, and the room service."""
