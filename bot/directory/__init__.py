"""The support directory: its vocabulary, matching, and introductions with both consents."""
