"""The employee directory: who is calling, from their caller ID."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from frontdoor.errors import ConfigError
from frontdoor.schemas import DirectoryFile, check
from frontdoor.yamlfile import read_yaml


@dataclass(frozen=True)
class Employee:
    number: str
    name: str
    department: str | None = None
    vip: bool = False

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


def normalise_number(number: str | None) -> str | None:
    """E.164-ish digits with a leading plus, so '+1 (555) 123-0001' and '+15551230001' agree."""
    if not number:
        return None
    digits = re.sub(r"\D", "", number)
    if not digits:
        return None
    return f"+{digits}" if number.strip().startswith("+") or len(digits) > 10 else f"+1{digits}"


@dataclass(frozen=True)
class EmployeeDirectory:
    employees: tuple[Employee, ...] = ()

    def lookup(self, number: str | None) -> Employee | None:
        wanted = normalise_number(number)
        if wanted is None:
            return None
        return next((e for e in self.employees if normalise_number(e.number) == wanted), None)


def load_directory(path: Path) -> EmployeeDirectory:
    """Read ``employees: [{number, name, department, vip}]`` from a YAML file."""
    data = read_yaml(path, "directory file")
    if data is None:
        return EmployeeDirectory()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected 'employees:' followed by a list")
    employees = []
    for index, entry in enumerate(check(DirectoryFile, data, str(path)).employees or []):
        if normalise_number(entry.number) is None:
            raise ConfigError(f"{path}: employees[{index}].number: not a phone number: {entry.number!r}")
        employees.append(Employee(entry.number, entry.name, entry.department, entry.vip))
    return EmployeeDirectory(tuple(employees))
