"""Routing: which channel each venue output carries, by hand or by the schedule."""
