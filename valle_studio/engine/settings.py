"""One frozen set of generation settings, shared by the GUI, the CLI and batch, each declared once.

Upstream's web UI builds one dict and every stage (AR level 0, NAR levels 1..7, NAR-len demasking) reads
the same keys from it (see ``shared/reference/generation-semantics.md``). :class:`GenerationSettings`
is that dict, typed and validated once in ``__post_init__``. The defaults are the web UI's.

Each field is declared with :func:`~.setting_spec.setting`: its default, range, step, GUI label and tip,
CLI help and flag, in one place (:data:`SPECS` collects them). Validation, the sampler panel, the CLI
flags and the stored settings are all derived from that declaration; the field order is the order the
sampler panel and ``--help`` show them in.

Nothing here imports torch, so the GUI can build and validate settings before the engine is loaded.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any, Literal

from valle_studio.core.codec_format import FRAMES_PER_SECOND
from valle_studio.engine.setting_spec import Choice, FieldSpec, Range, SettingsError, bind_specs, setting

Modality = Literal["auto", "ar+nar", "nar-len"]
SplitMode = Literal["sentences", "lines", "none"]

MAX_SECONDS = 120.0  # longest piece of text, and so the longest fixed NAR-len length


@dataclass(frozen=True)
class GenerationSettings:
    """Every knob of one generation run. Defaults match upstream's web UI.

    Temperatures of 0 mean greedy (argmax). Durations are in seconds; :meth:`max_duration_frames`
    converts them the way upstream does (truncation).
    """

    # Which generation path: "auto" picks NAR-len when the model has a len head, else AR+NAR.
    modality: Modality = setting(
        "auto", label="&Modality", basic=True, help="generation path",
        tip="How the speech is generated. NAR-len predicts the length and fills in all frames in a few passes "
            "(fast). AR + NAR writes one frame after another (slower, can be more natural). Auto uses NAR-len "
            "when the model can.",
        choices=(Choice("auto", "Auto (what the model supports best)"),
                 Choice("ar+nar", "AR + NAR (one frame at a time)"),
                 Choice("nar-len", "NAR-len (all frames at once, faster)")))
    # AR level-0 temperature; also the start temperature of NAR-len demasking (annealed by 1 - t).
    ar_temperature: float = setting(
        1.0, label="Temperature", range=Range(0.0, 10.0), step=0.05, decimals=2, basic=True,
        help="AR / NAR-len temperature, 0 = greedy",
        tip="How adventurous the main pass is. 0 always picks the most likely sound (flat, repeatable); about 1 "
            "sounds natural; higher gets wilder and can break down. In NAR-len it starts here and cools down "
            "step by step.")
    # Temperature of the NAR refinement levels 1..7 (0 = greedy, what upstream's UI sends).
    nar_temperature: float = setting(
        0.0, label="Refinement temperature", range=Range(0.0, 10.0), step=0.05, decimals=2, basic=True,
        help="NAR levels 1-7 temperature, 0 = greedy",
        tip="Randomness of the seven passes that add detail to the sound. 0 picks the most likely detail every "
            "time, which is what the original web UI does and usually sounds best.")
    # NAR-len demasking steps.
    max_steps: int = setting(
        50, label="Steps", range=Range(1, 500), basic=True, flag="--steps", metavar="N", only_for="nar-len",
        help="NAR-len demasking steps",
        tip="NAR-len only: how many passes fill in the speech. More steps is slower and usually cleaner; "
            "25–50 is typical.")
    # Upper bound on the length of each generated sentence, in seconds.
    max_duration: float = setting(
        12.0, label="Max duration", range=Range(0.0, MAX_SECONDS, low_open=True), step=0.5, decimals=1,
        unit="seconds", basic=True, help="cap per sentence",
        tip="The longest one piece of text may become. Generation stops here even if the sentence is not "
            "finished.")
    # Classifier-free guidance strength (0 = no unconditional pass; NAR-len always uses >= 2.5).
    cfg_strength: float = setting(
        1.0, label="Guidance (CFG)", range=Range(0.0, 20.0), step=0.25, decimals=2, basic=True,
        help="classifier-free guidance strength",
        tip="How closely the speech follows the text and the reference voice. 1 leaves the model as it is, "
            "higher follows more strictly but can sound strained, 0 skips the extra pass (faster). NAR-len "
            "always uses at least 2.5.")
    # Random seed; None draws a fresh one per run (recorded with the take).
    seed: int | None = setting(
        None, label="See&d", range=Range(0, 2**63, high_open=True), rule="a non-negative 63-bit integer",
        off_text="random", basic=True, help="random seed; the one used is printed",
        tip="The same seed with the same settings, text and voice gives the same take. Leave empty for a new "
            "random seed each time; every take records the seed it used.")
    # Keep only the k most likely tokens (0 = off).
    top_k: int = setting(
        0, label="Top-k", range=Range(0, 8575), off_text="off", help="keep the k most likely tokens",
        tip="Only consider the k most likely sounds at each step. Lower is safer and flatter.")
    # Nucleus sampling: keep the smallest set whose probability reaches p (1.0 = off).
    top_p: float = setting(
        1.0, label="Top-p", range=Range(0.0, 1.0, low_open=True), step=0.01, decimals=2,
        help="nucleus sampling threshold, 1 = off",
        tip="Only consider the most likely sounds whose chances add up to p. 1 = off; 0.9 or so cuts rare "
            "glitches.")
    # Drop tokens less likely than min_p times the best one (0 = off).
    min_p: float = setting(
        0.0, label="Min-p", range=Range(0.0, 1.0, high_open=True), step=0.01, decimals=2, off_text="off",
        help="drop tokens below min-p x the best",
        tip="Ignore sounds less likely than this share of the most likely one. 0.05–0.1 trims rare glitches.")
    # Top-nσ: keep logits within n standard deviations of the best (0 = off).
    top_no: float = setting(
        0.0, label="Top-nσ", range=Range(0.0, 10.0), step=0.1, decimals=2, off_text="off",
        help="top-nσ: keep logits within n std of the best",
        tip="Keep only sounds that score within n standard deviations of the best one. 1 is the original's "
            "setting; smaller is stricter.")
    # Divide the logits of already generated tokens by this factor (1.0 = off).
    repetition_penalty: float = setting(
        1.0, label="Repetition penalty", range=Range(0.0, 10.0, low_open=True), step=0.05, decimals=2,
        help="penalise repeated tokens, 1 = off",
        tip="Make sounds that were just produced less likely to come again. 1 = off; 1.1–1.5 reduces stutters "
            "and loops.")
    # Scales the penalty with distance: each earlier token divides by factor * distance**decay, so a
    # positive decay penalises older repeats more, a negative one less (0 = same for all).
    repetition_penalty_decay: float = setting(
        0.0, label="Penalty decay", range=Range(-4.0, 4.0), step=0.1, decimals=2,
        help="fade the penalty with distance",
        tip="How quickly the repetition penalty fades for sounds further back. 0 = it does not fade.")
    # AR only: make stopping less (positive) or more (negative) likely as the output grows.
    length_penalty: float = setting(
        0.0, label="Length penalty", range=Range(-4.0, 4.0), step=0.1, decimals=2, only_for="ar+nar",
        help="AR: push the stop token later (+) or earlier (-)",
        tip="AR only: positive values make the voice keep talking longer, negative values make it stop "
            "sooner. 0 = off.")
    # Rescale the guided logits back toward the conditional spread (0 = off, 1 = full).
    cfg_rescale: float = setting(
        0.75, label="Guidance rescale", range=Range(0.0, 1.0), step=0.05, decimals=2, help="CFG rescale φ",
        tip="Pulls strongly guided speech back toward the model's natural range so it does not sound harsh. "
            "0 = off, 1 = full.")
    # How many previous sentences are fed back as context.
    context_history: int = setting(
        0, label="Rolling context", range=Range(0, 4), off_text="off", metavar="N",
        help="previous sentences fed as context",
        tip="Feed the last N generated pieces back in as context, so consecutive sentences keep the same "
            "voice and pace.")
    # Dynamic temperature floor; None disables it. When set (>= 0) the temperature slides from
    # ``ar/nar_temperature`` toward this value as the model gets more confident.
    min_temperature: float | None = setting(
        None, label="Dynamic temperature floor", range=Range(0.0, 10.0), step=0.05, decimals=2,
        off_text="off", help="dynamic temperature floor",
        tip="Lower the temperature toward this value whenever the model is confident. Off keeps the "
            "temperature fixed.")
    # -- samplers for the AR level-0 loop (sampling/dry.py, choosers.py, beam.py); NAR passes ignore them --
    # DRY: lower a token by multiplier * base ** (n - allowed length) when emitting it would repeat the last
    # n >= allowed length tokens (0 = off).
    dry_multiplier: float = setting(
        0.0, label="DRY strength", range=Range(0.0, 10.0), step=0.05, decimals=2, off_text="off",
        only_for="ar+nar",
        help="AR: DRY multiplier, penalise tokens that would extend a repeat",
        tip="AR only: \"Don't repeat yourself\". Makes it less likely that a stretch of sound that was already "
            "produced is produced again. 0.8 is the DRY authors' suggestion; 0 = off.")
    dry_base: float = setting(
        1.75, label="DRY base", range=Range(1.0, 8.0, low_open=True), step=0.05, decimals=2,
        only_for="ar+nar",
        help="AR: DRY base, how fast the penalty grows with the repeat's length",
        tip="AR only: how much harder DRY pushes back for every further repeated frame. 1.75 is the usual value.")
    dry_allowed_length: int = setting(
        2, label="DRY allowed length", range=Range(1, 50), unit="frames", metavar="N",
        only_for="ar+nar",
        help="AR: repeats up to this many frames are not penalised by DRY",
        tip="AR only: DRY leaves repeats of up to this many frames alone; 75 frames are one second.")
    dry_sequence_breakers: tuple[int, ...] = setting(
        (), label="DRY breakers", range=Range(0, 1023), max_items=32, metavar="IDS",
        only_for="ar+nar",
        help="AR: codes that end a DRY match, e.g. 62,424 (default: none)",
        tip="AR only: sound codes (0-1023, separated by commas) at which DRY stops matching. Audio has no natural "
            "breakers, so this is usually empty.")
    # Mirostat v2: steer the average surprise to tau bits; eta is how fast it corrects (0 = off).
    mirostat_tau: float = setting(
        0.0, label="Mirostat target", range=Range(0.0, 20.0), step=0.1, decimals=2, off_text="off",
        only_for="ar+nar",
        help="AR: mirostat v2 target surprise in bits (needs a temperature above 0)",
        tip="AR only: keeps the surprise of every chosen sound near this many bits instead of using a fixed "
            "cut-off: lower is safer, higher more varied. Needs a temperature above 0. 0 = off.")
    mirostat_eta: float = setting(
        0.1, label="Mirostat rate", range=Range(0.0, 1.0, low_open=True), step=0.01, decimals=2,
        only_for="ar+nar",
        help="AR: mirostat learning rate",
        tip="AR only: how quickly mirostat corrects towards its target. 0.1 is the paper's value.")
    # VALL-E 2's repetition-aware sampling: redraw from the full distribution when the chosen code fills more
    # than the threshold of the last window codes (window 0 = off).
    ras_window: int = setting(
        0, label="Repetition-aware window", range=Range(0, 200), unit="frames", off_text="off", metavar="N",
        only_for="ar+nar",
        help="AR: repetition-aware sampling window (VALL-E 2)",
        tip="AR only: VALL-E 2's cure for stuck loops. When the chosen sound already fills too much of the last "
            "this-many frames, it is drawn again from the full distribution. 0 = off; mirostat takes its place "
            "when both are on.")
    ras_threshold: float = setting(
        0.1, label="Repetition-aware threshold", range=Range(0.0, 1.0), step=0.01, decimals=2,
        only_for="ar+nar",
        help="AR: repetition ratio above which repetition-aware sampling redraws",
        tip="AR only: the share of the window one sound may fill before it is redrawn.")
    # Deterministic, length-normalised beam search (1 = off: ordinary sampling).
    beam_width: int = setting(
        1, label="Beam width", range=Range(1, 16), off_text="off", metavar="N",
        only_for="ar+nar",
        help="AR: beam search with this many hypotheses (deterministic; 1 = off)",
        tip="AR only: follow this many candidate takes at once and keep the one the model finds most likely per "
            "frame. Deterministic (the seed does not matter); every step runs this many candidates. Replaces the "
            "random draw, so mirostat and repetition-aware sampling do nothing while it is on. 1 = off.")
    # Repeat/trim the reference prompt to this many seconds (0 = use it as is).
    prompt_length: float = setting(
        0.0, label="Reference length", range=Range(0.0, 60.0), step=0.5, decimals=1, unit="seconds",
        off_text="as recorded", help="repeat/trim the reference to this length",
        tip="Repeat or trim the reference voice to this many seconds before use.")
    # Silence inserted between generated sentences, in seconds.
    gap: float = setting(
        0.0, label="Pause between pieces", range=Range(0.0, 10.0), step=0.05, decimals=2, unit="seconds",
        help="silence between sentences", tip="Silence inserted between generated pieces of text.")
    # Fixed NAR-len length in frames instead of predicting it (None = predict).
    duration_frames: int | None = setting(
        None, label="Fixed length", range=Range(1, int(MAX_SECONDS * FRAMES_PER_SECOND)), step=5, unit="frames",
        off_text="model decides", flag="--duration", only_for="nar-len", fixes_result=True,
        help="fix the NAR-len length in frames, 75 a second",
        tip="NAR-len: make every piece exactly this many frames long (75 per second) instead of letting the "
            "model decide.")
    # NAR-len: re-mask a little more each step (upstream's "Remask").
    remask: bool = setting(
        False, label="Remask", only_for="nar-len", help="NAR-len: upstream's remask option",
        tip="NAR-len: re-mask a little more at every pass. Can clean up mumbling.")
    # NAR-len: only re-score masked positions (upstream's "Sampled Scores: Masked Only").
    scores_masked_only: bool = setting(
        False, label="Score masked frames only", only_for="nar-len", help="NAR-len: only re-score masked positions",
        tip="NAR-len: only re-judge the frames still being filled in; finished frames stay as they are.")
    # Treat the input as raw text through the text tokenizer instead of phonemizing it.
    no_phonemize: bool = setting(
        False, label="Raw text (no phonemes)", help="feed raw text through the text tokenizer instead of phonemes",
        tip="Give the model the text itself instead of its IPA pronunciation. Only for models trained on text.")
    # A LoRA voice adapter merged into the model for this generation ("" = none): an installed LoRA's name or
    # a lora.sft path (engine/lora). The LoRA control shows these two, not the sampler; the CLI sets both with
    # one flag of its own syntax, --lora NAME|PATH[:STRENGTH] (so messages about either name that flag).
    lora: str = setting(
        "", label="LoRA", panel="lora", cli=False, flag="--lora", off_text="none",
        help="LoRA voice adapter: installed name or lora.sft path",
        tip="A LoRA voice adapter (a character voice trained on top of the model). None uses the model as it is.")
    lora_strength: float = setting(
        1.0, label="LoRA strength", range=Range(0.0, 1.5), step=0.05, decimals=2, panel="lora", cli=False,
        flag="--lora",
        help="how strongly the LoRA acts: 1 = as trained",
        tip="How strongly the LoRA changes the model: 1 is as it was trained, 0 switches it off, up to 1.5 "
            "exaggerates it.")
    # How the text is cut into separately generated pieces (the text panel shows it, not the sampler).
    split: SplitMode = setting(
        "sentences", label="&Split by", panel="text", help="how text is cut into pieces",
        tip="How the text is cut into pieces that are generated one after another.",
        choices=(Choice("sentences", "Sentences",
                        "Generate each sentence separately, then join them. Best for long texts."),
                 Choice("lines", "Lines", "Generate each line of the text separately (one line = one piece)."),
                 Choice("none", "Whole text", "Generate the whole text in one go. Long texts may trail off or "
                                              "be cut at the maximum duration.")))

    def __post_init__(self) -> None:
        for spec in SPECS.values():
            spec.check(getattr(self, spec.name))
        # The one rule across units: a duration cap that truncates to zero frames cannot generate anything.
        if self.max_duration_frames() < 1:
            raise SettingsError("max_duration", "must be at least one frame (1/75 s)")

    # -- derived values -------------------------------------------------------------------------
    def max_duration_frames(self) -> int:
        """The duration cap in codec frames: ``int(seconds * 75)`` (upstream truncates)."""
        return int(self.max_duration * FRAMES_PER_SECOND)

    def prompt_length_frames(self) -> int:
        """The prompt repeat/trim target in frames (0 = off)."""
        return int(self.prompt_length * FRAMES_PER_SECOND)

    def replace(self, **changes: Any) -> GenerationSettings:
        """A copy with some fields changed, validated again."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (for takes, manifests, project files and the app's saved settings)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationSettings:
        """Build from a dict, ignoring unknown keys (files written by newer versions). Token lists come
        back from JSON as lists and become tuples again."""
        values = {k: v for k, v in data.items() if k in SPECS}
        for name, value in values.items():
            if SPECS[name].kind == "tokens" and isinstance(value, list):
                values[name] = tuple(value)
        return cls(**values)


#: Every field's declaration, in field order (the order of the sampler panel and of ``--help``).
SPECS: dict[str, FieldSpec] = bind_specs(GenerationSettings, typing.get_type_hints(GenerationSettings))


def gui_message(error: SettingsError) -> str:
    """``error`` in the GUI's words: the setting's label ("Top-p: must be ...") instead of its field name."""
    spec = SPECS.get(error.field)
    return f"{spec.title}: {error.problem}" if spec else str(error)

MODALITIES: tuple[str, ...] = SPECS["modality"].values
SPLIT_MODES: tuple[str, ...] = SPECS["split"].values


@dataclass(frozen=True)
class Preset:
    """A named starting point offered by the GUI: its label and tip, and the settings it loads."""

    name: str
    label: str
    tip: str
    settings: GenerationSettings


#: The presets in the order the GUI lists them. "default" is exactly upstream's web UI.
PRESET_LIST: tuple[Preset, ...] = (
    Preset("default", "Default (original web UI)", "Exactly the settings of the original VALL-E web UI.",
           GenerationSettings()),
    # Lower temperatures and a little repetition control: fewer artefacts, flatter delivery.
    Preset("stable", "Stable", "Cooler, guided sampling: fewer glitches, a flatter delivery.",
           GenerationSettings(ar_temperature=0.6, min_p=0.05, repetition_penalty=1.1,
                              repetition_penalty_decay=0.5, cfg_strength=3.0, max_steps=50)),
    # Hotter sampling with a nucleus cap: livelier prosody, more variation between takes.
    Preset("expressive", "Expressive",
           "Hotter sampling with a nucleus cap: livelier, and takes differ more from each other.",
           GenerationSettings(ar_temperature=1.1, top_p=0.95, cfg_strength=2.5, max_steps=50)),
    # The AR path with VALL-E 2's repetition-aware sampling over a nucleus, and DRY at its authors' values: for
    # models (or voices) whose AR falls into loops and stutters.
    Preset("steady-ar", "Steady AR (no loops)",
           "AR + NAR with VALL-E 2's repetition-aware sampling and DRY: frame by frame, but stuck loops and "
           "stutters are drawn again.",
           GenerationSettings(modality="ar+nar", top_p=0.9, ras_window=10, ras_threshold=0.1, dry_multiplier=0.8)),
)
PRESETS: dict[str, GenerationSettings] = {preset.name: preset.settings for preset in PRESET_LIST}

__all__ = [
    "FRAMES_PER_SECOND", "MAX_SECONDS", "MODALITIES", "PRESETS", "PRESET_LIST", "SPECS", "SPLIT_MODES",
    "FieldSpec", "GenerationSettings", "Modality", "Preset", "SettingsError", "SplitMode", "gui_message",
]
