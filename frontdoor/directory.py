"""The employee directory: who is calling, from their caller ID."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from frontdoor.errors import ConfigError
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
    if not isinstance(data, dict) or not isinstance(data.get("employees", []), list):
        raise ConfigError(f"{path}: expected 'employees:' followed by a list")
    employees = []
    for index, entry in enumerate(data.get("employees") or []):
        where = f"{path}: employees[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping with number and name")
        for key in ("number", "name"):
            if not isinstance(entry.get(key), (str, int)) or not str(entry.get(key)).strip():
                raise ConfigError(f"{where}.{key}: required")
        if normalise_number(str(entry["number"])) is None:
            raise ConfigError(f"{where}.number: not a phone number: {entry['number']!r}")
        vip = entry.get("vip", False)
        if not isinstance(vip, bool):
            raise ConfigError(f"{where}.vip: expected true or false, got {vip!r}")
        department = entry.get("department")
        employees.append(Employee(str(entry["number"]), str(entry["name"]).strip(), str(department) if department else None, vip))
    return EmployeeDirectory(tuple(employees))
