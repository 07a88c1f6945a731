"""Code the tests share: databases, settings and deliveries, the running stacks."""
