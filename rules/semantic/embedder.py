"""Sentence embeddings from all-MiniLM-L6-v2 (int8 ONNX) with onnxruntime and tokenizers.

Like rule packs, the model and tokenizer are files read by path: this module is given both paths
and reads nothing else (no environment, no network). Finding the installed files is the caller's
job (bot/semantic.py). Importing this module needs the `semantic` extra installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

# all-MiniLM-L6-v2 was trained on sequences up to 256 word pieces (sentence-transformers'
# max_seq_length); longer text is split into chunks before it gets here.
MAX_TOKENS = 256
DIMENSIONS = 384
TOKEN_BUDGET = 2048  # padded tokens per onnxruntime call


class OnnxEmbedder:
    """Text in, unit-length 384-dimensional vectors out (mean pooling over real tokens).

    With `with_max`, each row also carries the max over tokens (another 384, unit length): the
    mean says what a sentence is about, the max keeps the one word that changes it ("pills",
    "lol"), which is what a classifier on top needs."""

    def __init__(
        self,
        model_path: Path | str,
        tokenizer_path: Path | str,
        threads: int = 1,
        with_max: bool = False,
    ):
        self.with_max = with_max
        self.dimensions = DIMENSIONS * (2 if with_max else 1)
        self.model_path = Path(model_path)
        self.tokenizer_path = Path(tokenizer_path)
        tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        # The shipped tokenizer pads every input to 128; we pad each batch ourselves to its
        # longest text (short comments then cost a fraction) and truncate at the model's limit.
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        # One thread per session: workers are separate processes on small machines, and
        # onnxruntime's default (every core) makes them fight each other.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        inputs = {i.name for i in self._session.get_inputs()}
        self._wants_types = "token_type_ids" in inputs
        output = self._session.get_outputs()[0]
        # The file ships the encoder only (last_hidden_state, rank 3); pooling is ours.
        self._pooled = len(output.shape) == 2

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Return an array (len(texts), 384) of L2-normalised sentence embeddings."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        # Similar lengths together keep padding small; a token budget per batch bounds the
        # attention buffers (memory) when long posts come in. The order is restored.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batch: list[int] = []
        for i in order:
            longest = len(encodings[i].ids)
            if batch and (len(batch) >= batch_size or (len(batch) + 1) * longest > TOKEN_BUDGET):
                out[batch] = self._embed_batch([encodings[j] for j in batch])
                batch = []
            batch.append(i)
        out[batch] = self._embed_batch([encodings[j] for j in batch])
        return out

    def _embed_batch(self, encodings: list) -> np.ndarray:  # type: ignore[type-arg]
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._wants_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        if self._pooled:
            pooled = hidden
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        parts = [_unit(pooled)]
        if self.with_max and not self._pooled:
            parts.append(_unit(np.where(mask[:, :, None] > 0, hidden, -1e4).max(axis=1)))
        return np.concatenate(parts, axis=1).astype(np.float32)


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.clip(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12, None)
