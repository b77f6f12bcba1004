"""A character-level LSTM language model, written as a PyTorch program (only the imports say
fastnn), trained on a short original text that ships with fastnn (char_lstm_text.txt, ~3 KB).

    python -m fastnn.examples.char_lstm [--steps 400] [--hidden 128] [--layers 2] [--seed 0]
    3183 characters, vocabulary 38
    step   50  train 4.30 bits/char  ...
    step  400  train 0.45 bits/char  ...
    whole text: 0.19 bits/char (target < 0.5)  55 s training

Characters go in as one-hot vectors (F.one_hot), through a 2-layer LSTM (hidden 128) and a
Linear head; each step trains on 32 random windows of 64 characters with Adam. At the end the
model reads the whole text once, carrying its state, and the mean cross-entropy of predicting
each next character is reported in bits per character and checked against --target. A unigram
model of this text needs ~4.2 bits/char; the model learns the text nearly by heart, so the
figure measures fitting (what the kernels are exercised by), not generalisation. A greedy
continuation of the opening words is printed too.
"""

import argparse
import math
import pathlib
import time

import fastnn as torch
from fastnn import nn
from fastnn.nn import functional as F

TEXT = pathlib.Path(__file__).with_name("char_lstm_text.txt")


class CharLSTM(nn.Module):
    def __init__(self, vocab, hidden, layers):
        super().__init__()
        self.vocab = vocab
        self.lstm = nn.LSTM(vocab, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(F.one_hot(x, self.vocab).float(), state)
        return self.head(out), state


def bits(loss):
    return loss / math.log(2)


def whole_text_bits(model, data):
    """Mean cross-entropy of each next character given all before it, in bits."""
    model.eval()
    with torch.no_grad():
        logits, _ = model(data[:-1].unsqueeze(0))
        loss = F.cross_entropy(logits.reshape(-1, model.vocab), data[1:])
    model.train()
    return bits(loss.item())


def greedy(model, prompt, stoi, itos, n):
    model.eval()
    with torch.no_grad():
        x = torch.tensor([[stoi[c] for c in prompt]])
        logits, state = model(x)
        out = []
        for _ in range(n):
            nxt = logits[0, -1].argmax().item()
            out.append(itos[nxt])
            logits, state = model(torch.tensor([[nxt]]), state)
    model.train()
    return prompt + "".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description="character-level LSTM language model")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=0.5, help="bits/char to reach")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)

    text = TEXT.read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text])
    print(f"{len(text)} characters, vocabulary {len(chars)}")

    model = CharLSTM(len(chars), args.hidden, args.layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    start = time.perf_counter()
    running = []
    for step in range(1, args.steps + 1):
        starts = torch.randint(0, len(text) - args.seq - 1, (args.batch,)).tolist()
        x = torch.stack([data[s : s + args.seq] for s in starts])
        y = torch.stack([data[s + 1 : s + args.seq + 1] for s in starts])
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running.append(loss.item())
        if step % 50 == 0 or step == args.steps:
            mean = sum(running) / len(running)
            running = []
            print(
                f"step {step:4d}  train {bits(mean):.2f} bits/char  "
                f"{time.perf_counter() - start:.1f} s"
            )
    seconds = time.perf_counter() - start
    final = whole_text_bits(model, data)
    print(f"whole text: {final:.2f} bits/char (target < {args.target})  {seconds:.1f} s training")
    print("sample:", repr(greedy(model, "The keeper ", stoi, {i: c for c, i in stoi.items()}, 120)))
    assert final < args.target, f"loss {final:.2f} bits/char is not below {args.target}"
    return {"bits_per_char": final, "seconds": seconds}


if __name__ == "__main__":
    main()
