"""Cases: the status machine, the person-and-thread key, consent and follow-ups."""
