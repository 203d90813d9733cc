"""Import promptsource `templates.yaml` files as tuneset templates.

A promptsource file maps template ids to `!Template` objects with `id`, `name`, a Jinja body
whose prompt and target are separated by `|||`, an `answer_choices` Jinja expression whose
rendering lists the choices separated by `|||`, and `!TemplateMetadata` (original_task,
choices_in_prompt, metrics, languages). The custom tags load as plain mappings here; no
promptsource code runs.

Bodies render in the same sandbox as the built-in templates. A row's `label` is the index into
`answer_choices`; rows labelled -1 have no target and are rejected by the stage.

Not here: promptsource's dataset registry and its per-dataset preprocessing hooks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import TemplateError
from pipelines.templating.templates import Template


class _PromptsourceLoader(yaml.SafeLoader):
    """SafeLoader that reads `!Template` / `!TemplateMetadata` nodes as plain mappings."""


def _as_mapping(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return loader.construct_mapping(node, deep=True)


_PromptsourceLoader.add_constructor("!Template", _as_mapping)
_PromptsourceLoader.add_constructor("!TemplateMetadata", _as_mapping)


def load_promptsource(path: str | Path) -> list[Template]:
    """Every template in a promptsource `templates.yaml`, compiled, in file order."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_PromptsourceLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TemplateError(f"malformed YAML{where}: {getattr(exc, 'problem', exc)}",
                            file=path) from exc
    except UnicodeDecodeError as exc:
        raise TemplateError(f"undecodable bytes at byte {exc.start}; expected UTF-8", file=path) from exc
    if not isinstance(data, dict) or not isinstance(data.get("templates"), dict):
        raise TemplateError("expected a mapping with a `templates` mapping (promptsource "
                            "templates.yaml layout)", file=path)
    templates = []
    for key, item in data["templates"].items():
        if not isinstance(item, dict) or "jinja" not in item:
            raise TemplateError("expected a !Template with a `jinja` body", template=str(key),
                                file=path)
        body = item["jinja"]
        if "|||" not in body:
            raise TemplateError("the Jinja body has no '|||' between prompt and target",
                                template=str(key), file=path)
        templates.append(Template(
            id=str(item.get("id", key)), name=str(item.get("name", key)), prompt=body, target="",
            answer_choices=item.get("answer_choices"), joined=True, file=str(path)))
    return templates
