"""Control plane: wire protocol, roles, Q&A rooms, routing and records, stores and bus."""
