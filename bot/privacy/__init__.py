"""Data protection: subject access and erasure, where a person's data lives, holds, retention."""
