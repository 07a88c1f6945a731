"""The Graph API client (client.py: the only code that talks to Meta), errors, shapes, usage."""
