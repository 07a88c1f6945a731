"""`haven demo`: the embedded default, filled with sample events through the real webhook."""
