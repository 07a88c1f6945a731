"""Load, validate and compile rule packs into a RuleSet. The only I/O: reading YAML by path."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
from pydantic import ValidationError

from .actions import merge_actions, private_variant, safeguard
from .compiled import CompiledRule, CompiledTerms, Gate, literal_gate, split_alternatives
from .detectors import DETECTOR_ATOMS, DIGIT_DETECTORS, DetectorContext
from .engine import RuleSet, rule_order
from .files import PACK_DIR, RuleError, describe, label_of, read_yaml
from .matchers import (
    DIGIT,
    compile_patterns,
    compile_phrases,
    gate_of,
    phrase_atoms,
    vocabulary,
)
from .model import (
    CATEGORIES,
    SAFEGUARDING_TOPS,
    Actions,
    Attachment,
    CategoryDefaults,
    Message,
    top_of,
)
from .schema import (
    ActionsDoc,
    DefaultsDoc,
    Example,
    PackDoc,
    RuleDoc,
    RulesConfig,
    TemplateDoc,
    TemplatesDoc,
    Terms,
)


def _example(item: str | Example) -> Message:
    ex = Example(text=item) if isinstance(item, str) else item
    return Message(
        text=ex.text,
        channel=ex.channel,
        platform="instagram" if ex.channel.startswith("ig_") else "facebook",
        attachments=tuple(Attachment(type=t) for t in ex.attachments),
        from_page=ex.from_page,
        author_id=ex.author_id,
    )


class _Builder:
    def __init__(self, config: RulesConfig) -> None:
        self.config = config
        self.sets: dict[str, list[str]] = {}
        self.docs: list[tuple[str, str, RuleDoc]] = []  # (file label, pack, doc)
        defaults_path = PACK_DIR / "defaults.yaml"
        try:
            self.defaults = DefaultsDoc.model_validate(read_yaml(defaults_path))
        except ValidationError as exc:
            raise RuleError(f"{label_of(defaults_path)}: {describe(exc)}") from exc
        self._add_sets(label_of(defaults_path), self.defaults.sets)
        self.templates = self._templates()

    def _add_sets(self, label: str, sets: dict[str, list[str]]) -> None:
        for name, phrases in sets.items():
            if name in self.sets:
                raise RuleError(f"{label}: set '{name}' is defined twice")
            self.sets[name] = phrases

    def _templates(self) -> dict[str, dict[str, str]]:
        path = PACK_DIR / "templates.yaml"
        try:
            doc = TemplatesDoc.model_validate(read_yaml(path))
        except ValidationError as exc:
            raise RuleError(f"{label_of(path)}: {describe(exc)}") from exc
        merged: dict[str, dict[str, str]] = {}
        overrides: dict[str, TemplateDoc] = dict(self.config.templates)
        for name in doc.templates.keys() | overrides.keys():
            variants: dict[str, str] = {}
            for source in (doc.templates.get(name), overrides.get(name)):
                if source is not None:
                    variants.update({k: v for k, v in source.model_dump().items() if v})
            merged[name] = variants
        return merged

    def add_file(self, path: Path) -> None:
        label = label_of(path)
        data = read_yaml(path)
        try:
            pack = PackDoc.model_validate(data)
        except ValidationError as exc:
            raise RuleError(f"{label}: {describe(exc)}") from exc
        self._add_sets(label, pack.sets)
        for index, raw in enumerate(pack.rules):
            rid = raw.get("id", f"#{index + 1}") if isinstance(raw, dict) else f"#{index + 1}"
            try:
                doc = RuleDoc.model_validate({**pack.defaults, **raw})
            except ValidationError as exc:
                raise RuleError(f"{label}: rule '{rid}': {describe(exc)}") from exc
            self.docs.append((label, pack.pack, doc))

    def add_word_lists(self) -> None:
        for category, phrases in self.config.word_lists.items():
            rid = "wordlist-" + category.replace(".", "-").replace("_", "-")
            top = top_of(category)
            doc = RuleDoc(
                id=rid,
                category=category,
                description="Organisation word list from config.yaml",
                score=0.8,
                phrases=phrases,
                from_page="any" if top in ("pii", "photo") else "never",
                exempt_staff=top not in ("risk", "pii", "photo"),
                must_match=[phrases[0]],
            )
            self.docs.append(("config.yaml rules.word_lists", "config", doc))

    def _expand(self, label: str, rid: str, phrases: list[str]) -> list[str]:
        out = []
        for phrase in phrases:
            if phrase.startswith("$"):
                if phrase[1:] not in self.sets:
                    raise RuleError(f"{label}: rule '{rid}': unknown set '{phrase}'")
                out.extend(self.sets[phrase[1:]])
            else:
                out.append(phrase)
        return out

    def _terms(self, label: str, rid: str, terms: Terms | None, by: float = 0.0):
        if terms is None:
            return None
        return CompiledTerms.build(terms, self._expand(label, rid, terms.phrases), by)

    def _actions(self, label: str, doc: RuleDoc) -> tuple[Actions, Actions]:
        return self._merged_actions(label, doc.id, doc.category, doc.actions, doc.private_actions)

    def _merged_actions(
        self,
        label: str,
        rid: str,
        cat: str,
        own: ActionsDoc | None,
        own_private: ActionsDoc | None,
    ) -> tuple[Actions, Actions]:
        """Category defaults < the rule's own < config.yaml, for public and private channels."""
        top = top_of(cat)
        actions = Actions()
        for key in (top, cat):
            if key in self.defaults.categories:
                actions = merge_actions(actions, self.defaults.categories[key].actions)
        actions = merge_actions(actions, own)
        for key in (top, cat):
            actions = merge_actions(actions, self.config.actions.get(key))
        public = safeguard(cat, actions)
        private_base = actions
        for key in (top, cat):
            spec = self.defaults.categories.get(key)
            if spec is not None:
                private_base = merge_actions(private_base, spec.private_actions)
        private_base = merge_actions(private_base, own_private)
        for key in (top, cat):
            private_base = merge_actions(private_base, self.config.actions.get(key))
        private = private_variant(safeguard(cat, private_base))
        for acts in (public, private):
            for kind, name in (
                ("public", acts.draft_public_reply),
                ("private", acts.draft_private_reply),
            ):
                if name and not self.templates.get(name, {}).get(kind):
                    raise RuleError(
                        f"{label}: rule '{rid}': actions: no {kind} variant of template '{name}'"
                    )
        return public, private

    def _category_defaults(self) -> dict[str, CategoryDefaults]:
        """Every category's defaults, for findings no YAML rule makes (rules/vision/)."""
        out = {}
        for cat in sorted(CATEGORIES):
            public, private = self._merged_actions(
                "rules/packs/defaults.yaml", cat, cat, None, None
            )
            out[cat] = CategoryDefaults(
                severity=self._category_default(cat, "severity", "medium"),
                priority=self._category_default(cat, "priority", 0),
                actions=public,
                private_actions=private,
            )
        return out

    def _category_default(self, category: str, field: str, fallback: Any) -> Any:
        for key in (category, top_of(category)):
            spec = self.defaults.categories.get(key)
            if spec is not None and field in spec.model_fields_set:
                return getattr(spec, field)
        return fallback

    def build(self) -> RuleSet:
        seen: dict[str, str] = {}
        for label, _, doc in self.docs:
            if doc.id in seen:
                raise RuleError(f"{label}: rule '{doc.id}': id already used in {seen[doc.id]}")
            seen[doc.id] = label
        for rid in self.config.disabled_rules:
            if rid not in seen:
                raise RuleError(f"config.yaml rules.disabled_rules: unknown rule '{rid}'")
        expanded = [
            (label, pack, doc, self._expand(label, doc.id, doc.phrases))
            for label, pack, doc in self.docs
            if doc.enabled and doc.id not in self.config.disabled_rules
        ]
        vocab = set()
        for _, _, doc, phrases in expanded:
            vocab |= vocabulary(phrases, doc.patterns)
        compiled = [
            self._compile(label, pack, doc, phrases) for label, pack, doc, phrases in expanded
        ]
        allow = self.config.allowlist
        phones = set()
        for raw in allow.phones:
            try:
                number = phonenumbers.parse(raw, self.config.default_region)
            except phonenumbers.NumberParseException as exc:
                raise RuleError(
                    f"config.yaml rules.allowlist.phones: cannot parse {raw!r}"
                ) from exc
            phones.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        return RuleSet(
            rules=tuple(sorted(compiled, key=rule_order)),
            templates=self.templates,
            staff_accounts=frozenset(self.config.staff_accounts),
            detector_context=DetectorContext(
                region=self.config.default_region,
                allowed_phones=frozenset(phones),
                allowed_emails=frozenset(allow.emails),
                allowed_domains=frozenset(allow.domains),
            ),
            vocab=frozenset(vocab),
            categories=self._category_defaults(),
        )

    def _compile(self, label: str, pack: str, doc: RuleDoc, phrases: list[str]) -> CompiledRule:
        try:
            phrase_re = compile_phrases(phrases)
            pattern_re = compile_patterns(doc.patterns)
        except Exception as exc:  # re.error and friends: name the rule, not a traceback
            raise RuleError(f"{label}: rule '{doc.id}': patterns: {exc}") from exc
        if phrase_re and pattern_re:
            matcher = compile_patterns([phrase_re.pattern, pattern_re.pattern])
        else:
            matcher = phrase_re or pattern_re
        try:
            requires = self._terms(label, doc.id, doc.requires)
            unless = self._terms(label, doc.id, doc.unless)
            modifiers = tuple(self._terms(label, doc.id, m, m.by) for m in doc.modifiers)
        except Exception as exc:
            if isinstance(exc, RuleError):
                raise
            raise RuleError(f"{label}: rule '{doc.id}': context patterns: {exc}") from exc
        public, private = self._actions(label, doc)
        gate, alternatives = None, ()
        if matcher is not None and doc.detector is None:
            atoms = [phrase_atoms(phrases) if phrases else frozenset()]
            atoms.append(gate_of([pattern_re]) if pattern_re is not None else frozenset())
            gate = literal_gate(atoms, doc.view)
            alternatives = split_alternatives(phrase_re, phrases, doc.patterns, doc.view)
        if doc.detector in DIGIT_DETECTORS:
            gate = frozenset([DIGIT])  # nothing to find in a message without digits
        elif doc.detector in DETECTOR_ATOMS and matcher is None:
            gate = literal_gate([DETECTOR_ATOMS[doc.detector]], doc.view)
        requires_gate = None
        if doc.requires is not None:
            req_phrases = self._expand(label, doc.id, doc.requires.phrases)
            parts = [phrase_atoms(req_phrases) if req_phrases else frozenset()]
            if doc.requires.patterns:
                parts.append(gate_of([compile_patterns(doc.requires.patterns)]))
            requires_gate = None if None in parts else frozenset().union(*parts)  # type: ignore[arg-type]
        exempt = doc.exempt_staff and top_of(doc.category) not in SAFEGUARDING_TOPS
        return CompiledRule(
            id=doc.id,
            category=doc.category,
            severity=doc.severity or self._category_default(doc.category, "severity", "medium"),
            priority=doc.priority
            if doc.priority is not None
            else self._category_default(doc.category, "priority", 0),
            pack=pack,
            source=label,
            description=doc.description,
            score=doc.score,
            threshold=doc.threshold,
            view=doc.view,
            matcher=matcher,
            detector=doc.detector,
            requires=requires,
            unless=unless,
            modifiers=modifiers,  # type: ignore[arg-type]
            quoted=doc.quoted,
            channels=frozenset(doc.channels),
            attachments=frozenset(doc.attachments),
            from_page=doc.from_page,
            exempt_staff=exempt,
            actions=public,
            private_actions=private,
            gate=Gate.of(gate),
            requires_gate=Gate.of(requires_gate),
            alternatives=alternatives,
            must_match=tuple(_example(e) for e in doc.must_match),
            must_not_match=tuple(_example(e) for e in doc.must_not_match),
        )


@lru_cache(maxsize=8)
def _load_cached(config_json: str) -> RuleSet:
    config = RulesConfig.model_validate_json(config_json)
    builder = _Builder(config)
    for name in config.packs:
        builder.add_file(PACK_DIR / f"{name}.yaml")
    for extra in config.extra_files:
        builder.add_file(Path(extra))
    builder.add_word_lists()
    return builder.build()


def load_ruleset(config: RulesConfig | None = None) -> RuleSet:
    """Validate and compile the enabled packs once; raise RuleError naming file, rule and key."""
    config = config or RulesConfig()
    # Compiling is pure, so identical configs share one immutable RuleSet. Extra files are
    # re-read only when the config changes (a reload after editing calls cache_clear()).
    # Only the keys the admin set: a partial `actions` override must not come back from the
    # JSON with every other key set to null, which would clear what it inherits.
    return _load_cached(config.model_dump_json(exclude_unset=True))


load_ruleset.cache_clear = _load_cached.cache_clear  # type: ignore[attr-defined]
