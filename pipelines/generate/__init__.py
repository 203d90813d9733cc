"""The generate stage: prompt records through a model backend, every completion kept (`stage`);
the conversation a record asks for (`prompts`), shared with preference sampling."""

from pipelines.generate.config import GenerateConfig
from pipelines.generate.prompts import check_prompts, conversation_of, conversations_of
from pipelines.generate.stage import COMPLETION, STAGE, generate_records

__all__ = ["COMPLETION", "STAGE", "GenerateConfig", "check_prompts", "conversation_of",
           "conversations_of", "generate_records"]
