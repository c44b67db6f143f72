"""``venuebridge doctor``: checks a deployment from the inside and says what to fix.

Each check is a small module that returns ``Check`` values (web/doctor/report.py); the
command (web/doctor/command.py) runs them side by side and prints one line each.
"""
