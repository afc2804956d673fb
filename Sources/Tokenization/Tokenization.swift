// The Tokenization target: BERT WordPiece tokenisation.
