"""Generator test parts: a local chat-completions server and a tiny random causal LM built in a folder.

Shared by the backend tests (test_generators_http, test_generators_llm) and the contract tests
(test_generator_contract) so that every generator runs against the same doubles.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.conftest import TINY_ITEMS
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.types import Recommendation, Turn

_BY_ID = {item.item_id: item for item in TINY_ITEMS}
#: One recommendation turn every local generator is run on (Collateral and Inception after "I loved Heat").
HEAT_REQUEST = GenerationRequest(
    turns=(Turn("user", "I loved Heat. Something tense?"),),
    recommendations=(Recommendation(_BY_ID["5"], 1, 0.9, {"cf": 0.9}, "Directed by Michael Mann, like Heat"),
                     Recommendation(_BY_ID["10"], 2, 0.8, {"content": 0.8}, "A heist thriller")),
)
PIECES = ["You might ", "enjoy Collateral ", "(2004), a tense ", "taxi thriller."]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class FakeServer:
    """A chat-completions server: streams PIECES as SSE; can fail, stall, or speak another dialect."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.fail_statuses: list[int] = []  # answered (in order) before a good response
        self.delay_s = 0.0  # before the first byte
        self.stall_after: int | None = None  # pieces sent before stalling
        self.chunked = True
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions":
                    self._plain(404, "not found")
                    return
                if server.fail_statuses:
                    status = server.fail_statuses.pop(0)
                    self._plain(status, '{"error": "overloaded"}')
                    return
                time.sleep(server.delay_s)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self._chunk(": keep-alive\n\n")
                self._chunk('data: {"choices": [{"delta": {"role": "assistant"}}]}\n\n')
                for i, piece in enumerate(PIECES):
                    if server.stall_after is not None and i >= server.stall_after:
                        time.sleep(3)
                        return
                    event = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                    self._chunk(f"data: {json.dumps(event)}\n\n")
                self._chunk("data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")

            def _chunk(self, text: str) -> None:
                data = text.encode()
                try:
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                except OSError:
                    pass

            def _plain(self, status: int, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def build_tiny_model(path: Path) -> Path:
    """Save a 2-layer GPT-2 with random weights and a byte-level BPE tokenizer trained here, with a chat
    template, into ``path`` (needs torch, tokenizers and transformers)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    corpus = ["You might enjoy Heat (1995), a tense crime film.", "Collateral is a taxi thriller.",
              "Inception bends your mind. Try it tonight!", "Hi! What kind of movie would you like?"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus * 3, trainers.BpeTrainer(
        vocab_size=320, special_tokens=["<unk>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<|im_start|>",
                                   eos_token="<|im_end|>", pad_token="<|im_end|>")
    fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(fast), n_positions=4096, n_embd=32, n_layer=2, n_head=2,
                        initializer_range=0.5, bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id)
    GPT2LMHeadModel(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path


# ReDial-shaped conversations over the tiny catalogue (fine-tuning and `eval replies` tests)
SEEKER, RECOMMENDER = 1, 2


def conversation(cid, turns):
    """A ReDial conversation: ``turns`` are ``(sender, text)`` with ``@id`` markers."""
    return {"conversationId": cid, "initiatorWorkerId": SEEKER, "respondentWorkerId": RECOMMENDER,
            "movieMentions": {"3": "Heat (1995)", "5": "Collateral (2004)", "999": "Unknown Film (1990)"},
            "messages": [{"text": t, "senderWorkerId": s, "messageId": i, "timeOffset": i}
                         for i, (s, t) in enumerate(turns)]}


DIALOGUES = [
    conversation("c1", [(SEEKER, "hi"), (SEEKER, "I loved @5 , any tense crime film?"),
                        (RECOMMENDER, "Have you seen @3 ?"), (RECOMMENDER, "It is great."),
                        (SEEKER, "no, what else?"), (RECOMMENDER, "Try @10 then.")]),
    conversation("c2", [(RECOMMENDER, "Hello! Seen @7 ?"), (SEEKER, "scary please"),
                        (RECOMMENDER, "@6 will scare you")]),
    conversation("c3", [(SEEKER, "something like @999"), (RECOMMENDER, "Then @999 again, or @3 ?"),
                        (SEEKER, "animated?"), (RECOMMENDER, "@2 is lovely")]),
    conversation("c4", [(SEEKER, "space films?"), (RECOMMENDER, "@8 and @9 are classics")]),
]
