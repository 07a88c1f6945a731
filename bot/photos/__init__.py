"""Photos on comments, posts and messages: fetched safely, looked at in memory, never kept.

`fetch` brings a picture from Meta's CDN within the `photos:` limits; `analysis` looks at it
(the pure `rules.vision`); `observations` stores what was seen; `consent` is the register of
the page's own photos whose people agreed (policy 001); `check` ties them together for the worker.
"""
