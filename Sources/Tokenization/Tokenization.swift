// The Tokenization target: BERT WordPiece and CLIP BPE tokenisation, Foundation (and zlib for .gz merges) only.
//
// - `Vocabulary`: a `vocab.txt` (one token per line, id = line number), exact lookups both ways.
// - `BasicTokenizer`: BERT's cleaning, CJK isolation, lower-casing, accent stripping and punctuation splitting.
// - `BertTokenizer` (+ `BertTokenizerConfiguration`): basic tokenisation then greedy longest-match-first WordPiece,
//   id for id the same as Google's / Chinese-CLIP's reference; model inputs (`Encoding`, `BatchEncoding`), decoding.
// - `WordPieceTrainer`: builds a vocabulary from a corpus.
// - `CLIPTokenizer` (+ `CLIPTextCleaning`, `HTMLEntities`): OpenAI CLIP's byte-level BPE with OpenCLIP's cleaning
//   (ftfy, HTML unescaping, whitespace, lower case), id for id OpenCLIP's on the same headlines.
//
// Parity with the reference is tested on 10,000 Chinese news headlines: see scripts/fetch-test-data.sh and
// Tests/Reference/make_tokenizer_references.py.
