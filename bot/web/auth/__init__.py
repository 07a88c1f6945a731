"""Staff sign-in: passwords (login.py), the second factor (totp.py) and attempt limits."""
