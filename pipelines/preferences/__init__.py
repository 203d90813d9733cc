"""Preference pairs: K sampled answers per prompt, scored and selected into chosen/rejected
pairs and best-of-n records (see `stage`)."""
