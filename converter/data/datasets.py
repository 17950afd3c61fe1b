"""Assemble the training set and the dev sets from every source, reproducibly for a seed.

Train (≈ 37k examples before the per-intent cap of training, ≈ 19k after):
  - Home Assistant's English templates expanded with the project's names (training part of every list)
    plus generated names (``name_generator``) so the tagger reads context, not memorized names;
  - the project's own templates (``sample_data/templates/*.yaml``), including out-of-scope sentences;
  - HWU64 train (``../shared/data/hwu64``): smart-home rows mapped to the schema, other scenarios as
    NotRecognized;
  - user data files (``extra_data``: YAML in the custom format, or canonical JSONL);
  - augmented copies (politeness, fillers, typos, STT form, casing).
Dev:
  - ``slurp_iot``: SLURP devel iot + audio/alarm (mapped) + other scenarios (out of scope);
  - ``unseen_names``: template sentences filled ONLY with held-out names/areas/items;
  - ``handwritten``: ``sample_data/dev/handwritten.txt``, written by hand for this project.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from converter.data.annotated import SOURCE_PREFIX as ANNOTATED
from converter.data.annotated import annotators_files, load_annotated, read_labelled
from converter.data.augmentation import augment
from converter.data.custom_data import (
    CustomData,
    examples_from_custom,
    expand_custom_templates,
    load_custom_data,
    parse_annotated,
)
from converter.data.example import Example
from converter.data.hassil_expansion import expand_ha_templates
from converter.data.hwu_slurp import load_hwu64_train, load_slurp_devel
from converter.data.hwu_slurp import shared_dir as resolve_shared_dir
from converter.data.labelling_values import make_example
from converter.data.name_generator import synthetic_lists
from converter.data.name_lists import (
    NameLists,
    is_generic_device_phrase,
    is_place_plus_generic,
    load_lists,
    merge_lists,
    split_lists,
)
from device_agent.errors import UserError
from device_agent.schema import NOT_RECOGNIZED, Schema
from sample_data import SAMPLE_DATA_DIR

TEMPLATES_DIR = SAMPLE_DATA_DIR / "templates"
HANDWRITTEN_DEV = SAMPLE_DATA_DIR / "dev" / "handwritten.txt"
INDEPENDENT_DEV = SAMPLE_DATA_DIR / "dev" / "independent.jsonl"  # a second annotator's; never trained on
EXTENSION_INTENTS = (
    "LightBrighten",
    "LightDim",
    "MakeCoffee",
)  # no HA templates: twice the own-template budget
# Intents whose own templates carry the indirect forms HA's templates lack ("do I need an umbrella tomorrow",
# "i wanna hear X", "forget it"): 1.5x the own-template budget, so that after the per-intent cap of training
# they are not drowned by HA's direct commands.
INDIRECT_FORM_INTENTS = ("HassGetWeather", "HassMediaSearchAndPlay", "HassNevermind")
# The device intents whose sentences carry the most slot patterns (any of 13 domains, names, areas, floors,
# states, brightness, colours, positions) and, for TurnOn/TurnOff, the most indirect forms and speech slips
# ("turn of the lamp", "it's kinda dark"): twice the template budgets and twice the per-intent cap of
# training, so their names and areas are not starved by intents with a handful of patterns.
BROAD_INTENTS = ("HassTurnOn", "HassTurnOff", "HassGetState", "HassLightSet", "HassSetPosition")
BROAD_SHARE = 2
NOT_RECOGNIZED_SHARE = 7  # with limit_per_intent, NotRecognized (the rest of the world) keeps 7x the cap
_OPEN_SLOTS = {"name", "area", "floor", "item", "search_query", "coffee_type"}


@dataclass
class Datasets:
    """Training examples and named dev sets."""

    train: list[Example]
    dev: dict[str, list[Example]]
    schema: Schema | None = None
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    names: NameLists | None = None  # the train / held-out split of the name lists
    annotated_left_out: int = 0  # annotated rows whose tagged value the sentence does not hold

    def summary(self) -> dict[str, dict[str, int]]:
        """Example counts per source (train) and per dev set."""
        by_source: dict[str, int] = {}
        for ex in self.train:
            key = ex.source.split("+")[0]
            by_source[key] = by_source.get(key, 0) + 1
        return {
            "train": {"total": len(self.train), **dict(sorted(by_source.items()))},
            "dev": {k: len(v) for k, v in self.dev.items()},
        }


def load_handwritten(schema: Schema, path: Path = HANDWRITTEN_DEV) -> list[Example]:
    """The handwritten dev set: ``Intent | text with [slot:words] | domain=… device_class=…`` per line.

    Inferred slots (domain, device_class, volume_step) are exactly what the line states: the gold is
    written by hand, not computed by the decoder's own rules.
    """
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        intent, text, spans, extra = parse_annotated(line)
        if intent != NOT_RECOGNIZED and intent not in schema.intents:
            raise UserError(f"{path}:{n}: unknown intent {intent!r}")
        ex = make_example(text, intent, spans, schema, "handwritten")
        if ex is None:
            raise UserError(f"{path}:{n}: a slot is not allowed for {intent} or does not parse: {line}")
        values = {k: v for k, v in ex.values.items() if schema.slot(k).tagged}
        values.update(extra)
        out.append(Example(ex.text, ex.intent, ex.slots, values, "handwritten"))
    return out


def _template_files() -> list[Path]:
    return sorted(TEMPLATES_DIR.glob("*.yaml"))


def _extend_schema(schema: Schema, customs: Sequence[CustomData]) -> Schema:
    extra = [i for c in customs for i in c.intents]
    return schema.with_intents(extra) if extra else schema


def build_datasets(
    seed: int = 0,
    extra_data: Iterable[Path] = (),
    shared_dir: Path | None = None,
    limit_per_intent: int | None = None,
    *,
    schema: Schema | None = None,
    ha_per_intent: int = 320,
    own_per_intent: int = 260,
    hwu_negatives: int = 4000,
    own_out_of_scope: int = 4000,
    augment_fraction: float = 0.35,
    unseen_per_intent: int = 14,
    min_per_intent: int = 250,
    synthetic_per_list: int = 100,
    name_words: Sequence[str] = (),
    annotated: Sequence[Path] = (),
    project_annotated: bool = True,
) -> Datasets:
    """Build train and dev sets (deterministic for a seed).

    Args:
        seed: seeds sampling, the held-out name split and augmentation.
        extra_data: user files: YAML (custom format: intents, lists, templates, examples) or JSONL examples.
        shared_dir: folder with ``hwu64/`` and ``slurp/`` (default: env
            ``SQUEEZEHOME_SHARED_DATA`` or /work/shared/data); missing corpora are skipped.
        limit_per_intent: cap the sampled training examples of each intent (templates, near misses, HWU64's
            out-of-scope rows); NotRecognized keeps ``NOT_RECOGNIZED_SHARE`` times the cap (out-of-scope is the
            rest of the world). What people wrote — HWU64's real commands, annotated sets — is kept whole on top.
        schema: the schema (default: the project's); custom intents in ``extra_data`` extend it.
        ha_per_intent / own_per_intent: sentences sampled per intent from HA's / the project's templates.
        hwu_negatives: out-of-scope HWU64 rows kept for training.
        own_out_of_scope: sentences sampled from the project's out-of-scope templates.
        augment_fraction: share of template examples that get an augmented copy.
        unseen_per_intent: unseen-names dev sentences per intent and template source.
        min_per_intent: intents with fewer template examples get augmented copies up to this many.
        synthetic_per_list: generated names added to each training name list (0: none).
        name_words: everyday words some generated names and areas are made of
            (``converter.data.name_words``); words of held-out names and of the templates are left out.
        annotated: the user's value-labelled sets (``converter.data.annotated``), trained on whole on top of
            the cap and counted twice, like HWU64's real commands.
        project_annotated: train on the project's annotators' sets (``sample_data/annotated/``) too, first.
    """
    base = resolve_shared_dir(shared_dir)
    schema = schema or Schema.load()
    rng = random.Random(seed)

    own = [load_custom_data(p) for p in _template_files()]
    user_yaml = [load_custom_data(p) for p in extra_data if Path(p).suffix in (".yaml", ".yml")]
    user_jsonl = [Path(p) for p in extra_data if Path(p).suffix == ".jsonl"]
    for p in extra_data:
        if Path(p).suffix not in (".yaml", ".yml", ".jsonl"):
            raise UserError(
                f"--data {p}: use a .yaml data file (sample_data/CUSTOM_DATA.md) or a .jsonl example file"
            )
    schema = _extend_schema(schema, own + user_yaml)

    all_lists = merge_lists(load_lists(), *[c.lists for c in own + user_yaml])
    names = split_lists(all_lists, schema, seed=seed)
    words = _name_word_pool(name_words, own + user_yaml, names.held_out)
    train_lists = _with_synthetic(
        names.train, names.held_out, schema, random.Random(seed + 104729), synthetic_per_list, words
    )

    # === Train ===
    templated: list[Example] = []
    templated += expand_ha_templates(
        schema,
        names.train,
        random.Random(rng.random()),
        per_intent=ha_per_intent,
        per_intent_for=dict.fromkeys(BROAD_INTENTS, ha_per_intent * BROAD_SHARE),
    )
    for custom in own + user_yaml:
        source = "own_templates" if custom in own else f"user:{custom.path.name if custom.path else 'data'}"
        templated += expand_custom_templates(
            custom,
            schema,
            train_lists,
            random.Random(rng.random()),
            per_intent=own_per_intent,
            source=source,
            per_intent_for={
                NOT_RECOGNIZED: own_out_of_scope,
                **dict.fromkeys(EXTENSION_INTENTS, 2 * own_per_intent),
                **dict.fromkeys(INDIRECT_FORM_INTENTS, own_per_intent * 3 // 2),
                **dict.fromkeys(BROAD_INTENTS, own_per_intent * BROAD_SHARE),
            },
        )
    literal: list[Example] = []
    for custom in own + user_yaml:
        literal += examples_from_custom(custom, schema, "own_examples" if custom in own else "user_examples")
    for p in user_jsonl:
        literal += read_labelled(p, schema)

    hwu_in, hwu_out = ([], [])
    if (base / "hwu64").exists():
        hwu_in, hwu_out = load_hwu64_train(schema, base)
        hwu_out = random.Random(rng.random()).sample(hwu_out, min(hwu_negatives, len(hwu_out)))

    aug_rng = random.Random(rng.random())
    augmented = [augment(ex, aug_rng) for ex in templated if aug_rng.random() < augment_fraction]
    augmented = [a for a in augmented if a.text]
    augmented += _oversample_small(templated + literal, min_per_intent, aug_rng)
    own_sets = annotators_files() if project_annotated else []
    people, left_out = load_annotated([*own_sets, *annotated], schema)
    train = templated + augmented + literal + hwu_in + hwu_out + people

    # === Dev ===
    dev: dict[str, list[Example]] = {}
    if (base / "slurp").exists():
        dev["slurp_iot"] = load_slurp_devel(schema, base)
    unseen = _unseen_names(schema, names.held_out, own, seed, unseen_per_intent)
    dev["unseen_names"] = unseen  # filtered below, once training is final
    if HANDWRITTEN_DEV.exists():
        dev["handwritten"] = load_handwritten(schema)

    # No dev sentence (nor one of the independent annotator's) may appear in training. The annotators' dev
    # sets (sample_data/dev/annotators/) came later: some of their sentences are common commands the pool has
    # too ("turn off all the lights"); they stay, so that the recipe still trains the shipped model.
    dev_texts = {_norm(ex.text) for examples in dev.values() for ex in examples}
    dev_texts |= _independent_texts()
    train = [ex for ex in train if _norm(ex.text) not in dev_texts]
    train = _dedupe(train)
    train += [ex for ex in train if _people_wrote(ex)]  # real text x2
    # A word only held-out names have can still reach training inside another value (a generated name
    # "cookies jar", an item "tent" in an example): a sentence whose held-out value holds such a word is
    # not unseen. It stays out of training (above) and leaves the dev set (whatever the cap keeps below).
    held_words = _words(names.held_out) - _words(names.train)
    trained_words = {w for ex in train for s in ex.slots for w in s.value.lower().split()}
    leaked = held_words & trained_words
    dev["unseen_names"] = [
        ex for ex in unseen if not any(leaked & set(s.value.lower().split()) for s in ex.slots)
    ]
    if limit_per_intent is not None:
        train = _limit(train, limit_per_intent, random.Random(seed))
    random.Random(seed).shuffle(train)
    data = Datasets(train=train, dev=dev, schema=schema, names=names, annotated_left_out=left_out)
    data.sizes = data.summary()
    return data


def _independent_texts() -> set[str]:
    if not INDEPENDENT_DEV.exists():
        return set()
    lines = INDEPENDENT_DEV.read_text(encoding="utf-8").splitlines()
    return {_norm(json.loads(line)["text"]) for line in lines if line.strip()}


def _with_synthetic(
    train: dict[str, list[str]],
    held_out: dict[str, list[str]],
    schema: Schema,
    rng: random.Random,
    n: int,
    words: Sequence[str] = (),
) -> dict[str, list[str]]:
    """Training lists plus generated names (never a held-out name, never a generic device phrase)."""
    if n <= 0:
        return train
    forbidden = {v for vs in held_out.values() for v in vs} - {v for vs in train.values() for v in vs}
    places = set(train.get("area", [])) | set(train.get("floor", []))
    extra = {}
    for key, values in synthetic_lists(rng, per_list=n, words=words).items():
        kept = [v for v in values if v not in forbidden]
        if key.startswith("name_"):
            kept = [
                v
                for v in kept
                if not is_generic_device_phrase(v, schema) and not is_place_plus_generic(v, places, schema)
            ]
        extra[key] = kept
    return merge_lists(train, extra)


def _name_word_pool(
    words: Sequence[str], customs: Sequence[CustomData], held_out: dict[str, list[str]]
) -> list[str]:
    """``words`` less those of held-out names and those templates are written with ("brighten", "percent")."""
    texts = [t for c in customs for ts in c.templates.values() for t in ts]
    texts += [rule for c in customs for rule in c.expansion_rules.values()]
    taken = {w for t in texts for w in re.findall(r"[a-z]+", t.lower())} | _words(held_out)
    return [w for w in words if w not in taken]


def _words(lists: dict[str, list[str]]) -> set[str]:
    return {w for values in lists.values() for v in values for w in v.split()}


def _oversample_small(examples: list[Example], minimum: int, rng: random.Random) -> list[Example]:
    """Augmented copies for intents whose templates yield few distinct sentences (time, date, nevermind)."""
    by_intent: dict[str, list[Example]] = {}
    for ex in examples:
        by_intent.setdefault(ex.intent, []).append(ex)
    out: list[Example] = []
    for intent in sorted(by_intent):
        group = by_intent[intent]
        seen = {ex.text for ex in group}
        attempts = 0
        while len(seen) < minimum and attempts < minimum * 4:
            attempts += 1
            new = augment(rng.choice(group), rng)
            if new.text and new.text not in seen:
                seen.add(new.text)
                out.append(new)
    return out


def _unseen_names(
    schema: Schema, held_out: dict[str, list[str]], own: Sequence[CustomData], seed: int, per_intent: int
) -> list[Example]:
    rng = random.Random(seed + 7919)
    sampled = expand_ha_templates(
        schema, held_out, rng, per_intent=per_intent, near_miss_per_intent=3, source="unseen_names/ha"
    )
    for custom in own:
        sampled += expand_custom_templates(
            custom, schema, held_out, rng, per_intent=per_intent, source="unseen_names/own"
        )
    keep = [
        ex for ex in sampled if ex.intent == NOT_RECOGNIZED or any(s.type in _OPEN_SLOTS for s in ex.slots)
    ]
    return _dedupe(keep)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[?.,!;:\"]", " ", text.lower()).split())


def _dedupe(examples: list[Example]) -> list[Example]:
    seen: set[tuple[str, str]] = set()
    out = []
    for ex in examples:
        key = (ex.text, ex.intent)
        if key not in seen:
            seen.add(key)
            out.append(ex)
    return out


def _people_wrote(ex: Example) -> bool:
    """An annotated sentence, or one of HWU64's real commands: trained on whole, never sampled away by the cap
    (its out-of-scope rows, 4,000 of them, are sampled like the templates' near misses)."""
    return ex.source.startswith(ANNOTATED) or (ex.source.startswith("hwu64/") and ex.intent != NOT_RECOGNIZED)


def _limit(examples: list[Example], n: int, rng: random.Random) -> list[Example]:
    by_intent: dict[str, list[Example]] = {}
    for ex in examples:
        by_intent.setdefault(ex.intent, []).append(ex)
    out = []
    for intent in sorted(by_intent):
        kept = [ex for ex in by_intent[intent] if _people_wrote(ex)]  # all of them, on top of the cap
        group = [ex for ex in by_intent[intent] if not _people_wrote(ex)]
        cap = n * NOT_RECOGNIZED_SHARE if intent == NOT_RECOGNIZED else n
        cap = n * BROAD_SHARE if intent in BROAD_INTENTS else cap
        out += kept + rng.sample(group, min(cap, len(group)))
    return out
