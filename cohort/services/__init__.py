"""Write side: plain functions that take a session, flush, and never commit."""
