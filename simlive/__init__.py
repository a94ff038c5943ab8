"""simlive: simulate and load-test live e-commerce broadcasts against compliance rules.

Importing the package loads nothing heavy (no simpy, numpy, locust or FastAPI): the CLI
imports each feature only when its command runs, so `simlive --help` stays instant.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
