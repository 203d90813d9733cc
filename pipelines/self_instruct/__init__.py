"""Self-instruct and Alpaca-style bootstrapping of new instruction tasks from seed tasks.

`stage.bootstrap_instructions` is the stage; `rounds` holds one round's steps, `seeds` the seed
reader, `filters` / `rouge` the Self-Instruct filters, `prompts` / `parse` the model's prompts
and the parsers of its replies.
"""

from pipelines.self_instruct.config import SelfInstructConfig
from pipelines.self_instruct.seeds import read_seeds, seed_tasks
from pipelines.self_instruct.stage import bootstrap_instructions, merge_rounds

__all__ = ["SelfInstructConfig", "bootstrap_instructions", "merge_rounds", "read_seeds",
           "seed_tasks"]
