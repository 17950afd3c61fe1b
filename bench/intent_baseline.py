"""A bag-of-n-grams intent baseline on the dev sets → bench/results/intent_baseline.json.

TF-IDF word 1-2-grams + character 2-4-grams, logistic regression, trained on `build_datasets()` train.
It measures how hard the dev sets are for a model that sees no word order, and is the floor the
SqueezeBERT student must beat. Needs scikit-learn (not a project dependency): pip install scikit-learn.

Usage: python bench/intent_baseline.py [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from converter.data import build_datasets
from converter.evaluation import Prediction, evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "intent_baseline.json"
    )
    args = parser.parse_args()
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union
    except ImportError as exc:
        raise SystemExit("bench/intent_baseline.py needs scikit-learn: pip install scikit-learn") from exc

    data = build_datasets(seed=args.seed)
    t0 = time.perf_counter()
    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=3, sublinear_tf=True),
    )
    model = make_pipeline(features, LogisticRegression(C=10, max_iter=300))
    model.fit([e.text.lower() for e in data.train], [e.intent for e in data.train])
    result = {
        "seed": args.seed,
        "train_examples": len(data.train),
        "fit_seconds": round(time.perf_counter() - t0, 1),
    }
    for name, rows in data.dev.items():
        probs = model.predict_proba([e.text.lower() for e in rows])
        preds = [Prediction(str(model.classes_[p.argmax()]), {}, float(p.max())) for p in probs]
        report = evaluate(rows, preds, slots=[], max_errors=0)
        result[name] = {
            "examples": report.n,
            "intent_accuracy": round(report.intent_accuracy, 4),
            "in_scope_intent_accuracy": round(report.in_scope_intent_accuracy, 4),
            "oos_false_accept": round(report.oos_false_accept, 4),
            "in_scope_false_reject": round(report.in_scope_false_reject, 4),
        }
        print(name, result[name])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
