"""Messages for the user that cnnviz computes (shape arithmetic, architectures, model files, ...), translatable.

A message is a text key of cnnviz/i18n plus its values. str() is the English text, so notebooks, logs
and tests read plain English; a UI shows `text(message, lang)` instead (cnnviz.ui.messages does, in the
session's language). Values that are messages themselves (the arithmetic detail inside an architecture
error, the word "height") are translated too. Numbers, code and Keras names are values and stay as they are.
"""

from __future__ import annotations

from cnnviz import i18n


class Verbatim(str):
    """A value that came from the user (a file name, a cell, a string in an uploaded file): a UI that renders
    markdown escapes it. Formats exactly like the plain string."""


class Message(str):
    """A text key and its values. It IS its English text (a str), so code that reads it as a string keeps
    working; `text(lang)` gives it in another language."""

    def __new__(cls, key: str, **values):
        obj = super().__new__(cls, render(key, values, i18n.DEFAULT))
        obj.key = key
        obj.values = values
        return obj

    def text(self, lang: str = i18n.DEFAULT, escape=None) -> str:
        return render(self.key, self.values, lang, escape)

    def __reduce__(self):  # st.cache_data pickles results: rebuild from the key, not from the English text
        return (_message, (self.key, self.values))

    def __repr__(self) -> str:
        return f"Message({self.key!r}, **{self.values!r})"


def _message(key: str, values: dict) -> Message:
    return Message(key, **values)


class MessageError(ValueError):
    """A ValueError whose message is a Message: `key` and `values` let a UI show it in another language."""

    def __init__(self, key: str, **values):
        self.key = key
        self.values = values
        super().__init__(render(key, values, i18n.DEFAULT))

    def __reduce__(self):  # pickling: rebuild from the key (the default would call __init__ with the English text)
        return (_error, (type(self), self.args, self.__dict__))

    @property
    def message(self) -> Message:
        return Message(self.key, **self.values)

    def text(self, lang: str = i18n.DEFAULT, escape=None) -> str:
        return render(self.key, self.values, lang, escape)


def _error(cls, args, state):
    err = cls.__new__(cls, *args)
    err.args = args
    err.__dict__.update(state)
    return err


def render(key: str, values: dict, lang: str = i18n.DEFAULT, escape=None) -> str:
    """The text of `key` in `lang` with `values`; nested messages in the same language.

    `escape` (a function str -> str, e.g. markdown escaping) is applied to Verbatim values only.
    """
    return i18n.t(key, lang, **{name: _value(v, lang, escape) for name, v in values.items()})


def _value(v, lang: str, escape):
    if isinstance(v, (Message, MessageError)):
        return v.text(lang, escape)
    if isinstance(v, Verbatim) and escape is not None:
        return escape(str(v))
    return v


def text(message, lang: str = i18n.DEFAULT, escape=None) -> str:
    """Any message or exception as text in `lang`: translated when it carries a key, str() otherwise."""
    if isinstance(message, (Message, MessageError)):
        return message.text(lang, escape)
    return str(message)


def term(word: str):
    """A course word used as a value ("kernel size", "stride", "height"): a Message when the texts have
    it as msg.term.<word with - for spaces>, else the word itself (a Keras argument name such as kernel_size)."""
    key = "msg.term." + str(word).replace(" ", "-")
    return Message(key) if key in i18n.texts(i18n.DEFAULT) else word
