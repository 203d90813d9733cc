"""Publishing: a pipeline run folder becomes a versioned Hugging Face dataset repository (a local
git repository and/or a Hub dataset repository) with a card, lineage and plots.

    from pipelines.publish import PublishConfig, parse_target, publish_run
    report = publish_run("runs/demo", PublishConfig(license="apache-2.0"),
                         targets=[parse_target("runs/demo/dataset")])
    report["new_version"], report["version"]        # (True, 'v1')

Modules: `run` (read and verify the run folder), `layout` (configs, splits, shards), `lineage`,
`plots`, `card` + `describe` (the card), `history` (versions.json), `versions` (local git
repositories), `hub` (Hub repositories), `build` (one version in a folder) and `publisher`
(the order of work across targets).
"""

from pipelines.publish.config import HUB_PREFIX, PublishConfig, Target, parse_target
from pipelines.publish.publisher import list_versions, publish_run

__all__ = ["HUB_PREFIX", "PublishConfig", "Target", "list_versions", "parse_target",
           "publish_run"]
