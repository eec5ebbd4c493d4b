"""What a transaction monitor's form adds to the generated one (``front.kind_forms``): the step
editor (``front.step_editor``), variables as ``NAME=value`` lines and secrets as lines that are
never shown back (left blank they keep the stored ones, as the HTTP form's secret fields do).

Every judgement stays ``monitoring.spec.parse_monitor``'s; errors at ``steps.<i>.<field>`` land
on the row and column of that field, and are listed above the form with the row's number and
the column's label.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from pydantic_core import ErrorDetails

from front import step_editor
from front.step_editor import ACTION_HELP, COLUMN_LABELS, COLUMNS, LOCATOR_HELP, StepRow
from monitoring.browser.codegen import RecordingError, steps_from_recording
from monitoring.browser.steps import ACTIONS
from sitecare.lib.netpolicy import IPNetwork
from sitecare.lib.validation_messages import error_message

if TYPE_CHECKING:
    from front.kind_forms import MonitorForm
    from monitoring.spec import MonitorDefinition

    _Base = MonitorForm
else:
    _Base = object

# The options this form edits itself instead of through generated fields.
EDITOR_KEYS = frozenset({"steps", "variables", "secrets", "recording"})


class SecretLines(forms.Textarea):
    """A textarea that never shows its value back (like a password field)."""

    def format_value(self, value: Any) -> str | None:
        return None


class TransactionFormMixin(_Base):
    """Mixed into the transaction kind's generated form class (see the module)."""

    def __init__(self, data: Any = None, **kw: Any) -> None:
        super().__init__(data, **kw)
        self.fields["variables"] = forms.CharField(
            label=_("Variables"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_("One per line, as NAME=value; a step uses it as ${NAME}."),
        )
        self.fields["secrets"] = forms.CharField(
            label=_("Secrets"),
            required=False,
            widget=SecretLines(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
            help_text=self._secrets_help(),
        )
        variables = self.stored.get("variables") if self.monitor else None
        if isinstance(variables, Mapping):
            self.initial["variables"] = "\n".join(f"{k}={v}" for k, v in variables.items())
        self.fields["recording"] = forms.CharField(
            label=_("Import a recording"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
            help_text=_(
                "Paste what “playwright codegen --target python URL” recorded: its goto, click, "
                "fill, check, select, press and expect lines become steps after the ones above. "
                "It is read, never run. Move typed card numbers and passwords to Secrets and "
                "write ${NAME} in their place."
            ),
        )
        self.step_errors: list[str] = []
        self.import_errors: list[str] = []
        self.import_note = ""
        self.import_first = 0  # the first imported row's number, to scroll to
        self.step_rows = self._rows(data)

    def _secrets_help(self) -> str:
        parts = [gettext("One per line, as NAME=value: card numbers, passwords. Never shown.")]
        stored = self.stored.get("secrets") if self.monitor else None
        if isinstance(stored, Mapping) and stored:
            parts.append(
                gettext(
                    "Stored: %(names)s. Leave blank to keep them; lines replace them, and a "
                    "NAME without a value keeps its stored value."
                )
                % {"names": ", ".join(sorted(stored))}
            )
        return " ".join(parts)

    def _rows(self, data: Any) -> list[StepRow]:
        """The rows to show: posted (after an editing button) or the stored steps."""
        if data is None:
            steps = self.stored.get("steps") if self.monitor else None
            return step_editor.padded(step_editor.rows_from_steps(steps))
        rows = step_editor.rows_from_post(data)
        op = str(data.get("step_op", ""))
        if not op:
            return step_editor.padded(rows)
        self.rearranging = True
        if op == "import":
            return step_editor.padded(self._imported(rows, str(data.get("recording", ""))))
        rows, blanks = step_editor.rearranged(rows, op)
        return step_editor.padded(rows, blanks)

    def _imported(self, rows: list[StepRow], recording: str) -> list[StepRow]:
        """The rows with a pasted codegen recording's steps after them (parsed, never run); a
        recording that cannot be read leaves the rows as they were and says which line."""
        try:
            steps = steps_from_recording(recording)
        except RecordingError as exc:
            # Beside the recording (where the page opens after the button), not above the rows.
            self.import_errors.append(
                gettext("The recording was not imported: %(error)s") % {"error": exc}
            )
            return rows
        kept = [row for row in rows if not row.blank]
        self.import_note = ngettext(
            "Imported as step %(first)d. Check it, then save the monitor.",
            "Imported as steps %(first)d–%(last)d. Check them, then save the monitor.",
            len(steps),
        ) % {"first": len(kept) + 1, "last": len(kept) + len(steps)}
        self.import_first = len(kept) + 1
        # Emptied once imported: a second press of the button would add the steps again.
        data = dict(self.data.items()) if not isinstance(self.data, QueryDict) else self.data.copy()
        data["recording"] = ""
        self.data = data
        return kept + step_editor.rows_from_steps(steps)

    def option_names(self) -> list[str]:
        return [*super().option_names(), "variables", "secrets"]

    def definition_data(self) -> dict[str, Any]:
        data = super().definition_data()
        data["steps"], self._origin = step_editor.steps_of(self.step_rows)
        variables = self._lines("variables")
        if variables:
            data["variables"] = variables
        secrets = self._secrets()
        if secrets:
            data["secrets"] = secrets
        return data

    def _lines(self, name: str) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for line in str(self.cleaned_data.get(name) or "").splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not key.strip() or (not sep and name == "variables"):
                message = gettext("“%(line)s” is not NAME=value.") % {"line": line.strip()[:40]}
                self.add_error(name, message)
                continue
            pairs[key.strip()] = value.strip() if sep else ""
        return pairs

    def _secrets(self) -> dict[str, str]:
        """Typed lines replace the stored secrets; a bare NAME keeps its stored value."""
        stored = self.stored.get("secrets") if self.monitor else None
        stored = stored if isinstance(stored, Mapping) else {}
        if not str(self.cleaned_data.get("secrets") or "").strip():
            return dict(stored)
        secrets = self._lines("secrets")
        for name, value in secrets.items():
            if value:
                continue
            if name in stored:
                secrets[name] = stored[name]
            else:
                message = gettext("%(name)s has no stored value: write %(name)s=value.")
                self.add_error("secrets", message % {"name": name})
        return secrets

    def parse(self, allowlist: tuple[IPNetwork, ...]) -> MonitorDefinition | None:
        """As the generated form, with what the rows themselves cannot say reported first."""
        if self.is_valid():
            for row in self.step_rows:
                if not row.blank:
                    row.errors.update(step_editor.step_from_row(row)[1])
            if any(row.errors for row in self.step_rows):
                self.add_error(None, gettext("Some steps cannot be read: see the marked rows."))
                return None
        return super().parse(allowlist)

    def add_error_items(self, errors: list[ErrorDetails]) -> None:
        """Step errors go to their row and column; the others to their fields."""
        others = []
        origin = getattr(self, "_origin", [])
        for error in errors:
            loc = error["loc"]
            if not loc or loc[0] != "steps":
                others.append(error)
                continue
            message = error_message(error)
            index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
            if index is None or index >= len(origin):
                self.step_errors.append(message)
                self.add_error(None, f"{gettext('Steps')}: {message}")
                continue
            row = self.step_rows[origin[index]]
            key = str(loc[2]) if len(loc) > 2 else ""
            # Named as the page shows it: the row's own number (blank rows count) and the
            # column's label, not the API's path ("steps.3.timeout").
            where = gettext("Step %(number)d") % {"number": origin[index] + 1}
            shown = message
            if key:
                column = step_editor.column_of(key, row.values["action"].strip())
                shown = message if column != "other" else f"{key}: {message}"
                row.errors.setdefault(column, []).append(shown)
                where = f"{where}, {COLUMN_LABELS[column]}"
            else:
                row.step_errors.append(message)
            self.add_error(None, f"{where}: {shown}")
        super().add_error_items(others)

    def step_editor_rows(self) -> list[dict[str, Any]]:
        """The rows as the template draws them: each column's input with its label and errors."""
        return [
            {
                "index": index,
                "number": index + 1,
                "blank": row.blank,
                # No "move down" under the last step: below it are only the blank rows.
                "last": all(later.blank for later in self.step_rows[index + 1 :]),
                "first_blank": row.blank and all(not r.blank for r in self.step_rows[:index]),
                "step_errors": row.step_errors,
                "has_errors": bool(row.step_errors or row.errors),
                "fields": [self._cell(index, row, column) for column in COLUMNS],
            }
            for index, row in enumerate(self.step_rows)
        ]

    def _cell(self, index: int, row: StepRow, column: str) -> dict[str, Any]:
        choices: list[tuple[str, str]] = []
        if column == "action":
            choices = [("", "—")] + [(a, f"{a}: {ACTION_HELP[a]}") for a in ACTIONS]
        elif column == "find":
            choices = [("", gettext("— (not an element)"))]
            choices += [(key, str(label)) for key, label in LOCATOR_HELP.items()]
        value = row.values[column]
        if choices and value and value not in dict(choices):
            choices.append((value, value))  # a stored value this version does not offer
        return {
            "name": f"steps-{index}-{column}",
            "id": f"id_steps-{index}-{column}",
            "column": column,
            "label": COLUMN_LABELS[column],
            "value": value,
            "choices": choices,
            "errors": row.errors.get(column, []),
        }
