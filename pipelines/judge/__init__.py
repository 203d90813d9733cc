"""The judge: AlpaGasus-style quality filter, G-Eval scoring, pairwise judging, judge evaluation.

- `rating.rate`: 0-5 scores for (instruction, input, response) examples, `parse` or `logprob`
- `filter.judge_filter`: the stage; keep score >= threshold, reject the rest with a reason
- `pairwise.judge_pairs`: A vs B in both orders; `pairwise.compare_scores`: rating with a margin
- `bias`: position consistency, P(prefer first), P(prefer longer), self-preference warning
- `evaluate.evaluate_judge`: agreement with labelled preferences, against longest and random
- prompts (`prompts/`), fencing (`fence`), output parsing (`parse`), token choice (`tokens`)
"""

from pipelines.judge.config import JudgeConfig
from pipelines.judge.evaluate import evaluate_judge, report_table
from pipelines.judge.examples import Example, example_of, pair_of
from pipelines.judge.filter import judge_filter
from pipelines.judge.pairwise import Pair, PairJudgement, compare_scores, judge_pairs
from pipelines.judge.parse import ParseError, parse_score, parse_verdict
from pipelines.judge.plot import plot_score_histogram
from pipelines.judge.rating import Rating, rate

__all__ = ["Example", "JudgeConfig", "Pair", "PairJudgement", "ParseError", "Rating",
           "compare_scores", "evaluate_judge", "example_of", "judge_filter", "judge_pairs",
           "pair_of", "parse_score", "parse_verdict", "plot_score_histogram", "rate",
           "report_table"]
