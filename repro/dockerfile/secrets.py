"""The literal values a Dockerfile gives to variables whose names look secret.

BuildKit expands ARG and ENV values into the step names it prints (``RUN echo
"$DB_PASSWORD"`` shows as ``RUN echo "hunter2"``), so a build's progress can only be
masked by someone who knows those values: this finds them, for repro.masking.Masker.
"""

from __future__ import annotations

from repro.dockerfile.expand import expand
from repro.dockerfile.model import Dockerfile
from repro.dockerfile.words import shell_words
from repro.masking import is_secret_key


def secret_values(dockerfile: Dockerfile) -> tuple[str, ...]:
    """Each literal ARG default and ENV value whose variable name looks secret."""
    found: list[str] = []
    for instruction in dockerfile.instructions:
        if instruction.command not in ("ARG", "ENV"):
            continue
        words = [w.text for w in shell_words(instruction.arguments, 0, dockerfile.escape)]
        if instruction.command == "ENV" and words and "=" not in words[0]:
            pairs = [(words[0], " ".join(words[1:]))]  # the legacy `ENV NAME value` form
        else:
            pairs = [(name, value) for name, _, value in (w.partition("=") for w in words)]
        for name, value in pairs:
            if not value or not is_secret_key(name):
                continue
            literal = expand(value, lambda _name: None, dockerfile.escape)
            if literal is not None and literal.text:
                found.append(literal.text)  # quotes and escapes removed, as BuildKit prints it
    return tuple(dict.fromkeys(found))
