"""tuneset stages: templating, self-instruct, dedup, judging, preference pairs.

Stage code is plain Python over `datasets.Dataset`; it never imports Prefect (see `flows/`).
"""

__version__ = "0.1.0"
