"""The real model: it loads from the installed packages and embeds as sentence-transformers do."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy", reason="the `semantic` extra is not installed")
ort = pytest.importorskip("onnxruntime", reason="the `semantic` extra is not installed")


def test_the_model_file_is_the_encoder_and_pooling_is_ours(embedder) -> None:  # type: ignore[no-untyped-def]
    session = ort.InferenceSession(str(embedder.model_path), providers=["CPUExecutionProvider"])
    assert {i.name for i in session.get_inputs()} == {
        "input_ids",
        "attention_mask",
        "token_type_ids",
    }
    assert session.get_outputs()[0].name == "last_hidden_state"
    assert session.get_outputs()[0].shape[-1] == 384


def test_embeddings_are_unit_length_and_order_is_kept(embedder) -> None:  # type: ignore[no-untyped-def]
    texts = ["a much longer sentence about the coffee morning on Thursday", "hi", "hello there"]
    together = embedder.embed(texts)
    assert together.shape == (3, 768)  # mean pooled, then max pooled, each unit length
    assert np.allclose(np.linalg.norm(together[:, :384], axis=1), 1.0, atol=1e-5)
    assert np.allclose(np.linalg.norm(together[:, 384:], axis=1), 1.0, atol=1e-5)
    one_by_one = np.vstack([embedder.embed([t]) for t in texts])
    # Batches are padded to their longest text; pooling over the mask ignores the padding.
    assert np.allclose(together, one_by_one, atol=2e-3)
    assert embedder.embed([]).shape == (0, 768)


def test_paraphrases_are_close_and_unrelated_text_is_far(embedder) -> None:  # type: ignore[no-untyped-def]
    a, b, c, d = embedder.embed(
        [
            "Everyone would be better off without me",
            "My family would be happier if I was gone",
            "What time does the coffee morning start on Thursday?",
            "When does Thursday's coffee morning begin?",
        ]
    )[:, :384]
    assert a @ b > 0.45
    assert c @ d > 0.8
    assert a @ c < 0.2
    assert b @ d < 0.2


def test_very_long_text_is_truncated_not_refused(embedder) -> None:  # type: ignore[no-untyped-def]
    vector = embedder.embed(["word " * 5000])
    assert vector.shape == (1, 768)
    assert abs(float(np.linalg.norm(vector[:, :384])) - 1.0) < 1e-5
