"""Schemathesis hooks for tests/contract/run.sh (loaded through SCHEMATHESIS_HOOKS).

A multipart/form-data text part is text: it has no JSON types. Schemathesis sends a JSON
`null`, `true`, `0` or `{...}` put in a text field as the text `null`, `true`, `0` or `{...}`,
and a one-item list as that one item; the API cannot tell these from a title a person typed,
so it rightly accepts them (a paper titled "null" is a title). Such a case is not a
violation the wire can carry, so it is not generated. Everything else is still fuzzed on the
uploads: a text over its maxLength, a control character, a missing field, a field sent
twice (a list of two or more, refused with 422 naming it), a file of the wrong type.
"""

import schemathesis


def _representable(value):
    if isinstance(value, (str, bytes)):
        return True
    # Two or more parts of the same name: the API refuses a repeated text field.
    return isinstance(value, list) and len(value) >= 2


@schemathesis.hook
def filter_case(ctx, case):
    if not (case.media_type or "").startswith("multipart/"):
        return True
    if not isinstance(case.body, dict):
        return True
    return all(_representable(value) for name, value in case.body.items() if name != "file")
