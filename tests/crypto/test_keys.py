"""The keyring: newest key seals, every key opens, a missing or wrong key or a damaged value is a clear error."""

from __future__ import annotations

import stat

import pytest

from intake.platform import crypto
from intake.platform.settings import SettingError, Settings

A, B = crypto.new_key(), crypto.new_key()


def test_a_value_sealed_with_a_opens_with_b_a_then_after_resealing_with_b_alone():
    sealed = crypto.Keyring.parse(A).encrypt(b'{"D21S11":["30","31.2"]}', "profiles.genotypes")
    assert b"31.2" not in sealed and crypto.sealed_key_id(sealed) == crypto.Keyring.parse(A).newest_id
    both = crypto.Keyring.parse(f"{B},{A}")
    assert both.decrypt(sealed, "profiles.genotypes") == b'{"D21S11":["30","31.2"]}'
    resealed = both.reseal(sealed, "profiles.genotypes")
    assert resealed is not None and both.reseal(resealed, "profiles.genotypes") is None  # already current
    assert crypto.Keyring.parse(B).decrypt(resealed, "profiles.genotypes") == b'{"D21S11":["30","31.2"]}'
    with pytest.raises(crypto.DataKeyError, match=crypto.Keyring.parse(B).newest_id):
        crypto.Keyring.parse(A).decrypt(
            resealed, "profiles.genotypes"
        )  # the old key alone no longer opens it


def test_a_missing_key_a_damaged_value_or_another_column_is_an_error_never_garbage():
    keyring = crypto.Keyring.parse(A)
    sealed = keyring.encrypt(b"[1, 2, 3]", "match_candidates.evidence")
    with pytest.raises(
        crypto.DataKeyError, match=f"encrypted with data key {keyring.newest_id}, which is not"
    ):
        crypto.Keyring.parse(B).decrypt(sealed, "match_candidates.evidence")
    damaged = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(crypto.DataKeyError, match="does not open"):
        keyring.decrypt(damaged, "match_candidates.evidence")
    with pytest.raises(crypto.DataKeyError, match="does not open"):
        keyring.decrypt(sealed, "profiles.genotypes")  # moved to another column
    with pytest.raises(crypto.DataKeyError, match="not an encrypted value"):
        keyring.decrypt(b'{"a": 1}', "profiles.genotypes")


def test_a_bad_key_in_the_setting_is_named_by_position_never_echoed():
    with pytest.raises(SettingError, match="key 2 is not a key") as raised:
        crypto.Keyring.parse(f"{A},not-a-key-at-all-secret")
    assert "secret" not in str(raised.value) and A not in str(raised.value)
    with pytest.raises(SettingError, match="holds no key"):
        crypto.Keyring.parse(" , ")
    assert A not in repr(crypto.Keyring.parse(A))
    settings = Settings.from_env({"REUNITE_DATA_KEYS": A}, load_dotenv_file=False)
    assert A not in repr(settings) and settings.data_keys == A


def test_the_embedded_default_makes_its_key_file_once_readable_by_the_service_only(tmp_path):
    settings = Settings.from_env({"REUNITE_DATA_DIR": str(tmp_path)}, load_dotenv_file=False)
    first = crypto.load(settings)
    path = tmp_path / crypto.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert crypto.load(settings).ids == first.ids  # the same key on every start
    configured = Settings.from_env({"REUNITE_DATA_DIR": str(tmp_path), "REUNITE_DATA_KEYS": f"{B},{A}"},
                                   load_dotenv_file=False)  # fmt: skip
    assert crypto.load(configured).ids == crypto.Keyring.parse(f"{B},{A}").ids  # the setting wins


def test_a_server_database_without_a_key_refuses_to_start_rather_than_make_one_per_machine(tmp_path):
    settings = Settings.from_env(
        {"REUNITE_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql+psycopg://u@db.example/reunite"},
        load_dotenv_file=False,
    )
    with pytest.raises(SettingError, match="REUNITE_DATA_KEYS is not set"):
        crypto.load(settings)
    assert not (tmp_path / crypto.KEY_FILE).exists()


def test_many_values_open_into_one_buffer_as_each_opens():
    keyring = crypto.Keyring.parse(f"{A},{B}")
    values = [
        keyring.encrypt(b'{"vWA":["14","17"]}', "profiles.genotypes"), b'{"plain": "written before encryption"}',
        keyring.encrypt(b"", "profiles.genotypes"), crypto.Keyring.parse(B).encrypt(b"x" * 1000, "profiles.genotypes"),
    ]  # fmt: skip
    text, offsets = keyring.decrypt_many(values, "profiles.genotypes")
    assert [bytes(text[a:b]) for a, b in zip(offsets[:-1], offsets[1:], strict=True)] == [
        keyring.decrypt(v, "profiles.genotypes") if crypto.is_sealed(v) else v for v in values
    ]
    with pytest.raises(crypto.DataKeyError, match="which is not configured"):
        crypto.Keyring.parse(A).decrypt_many(values, "profiles.genotypes")
    damaged = values[0][:-1] + bytes([values[0][-1] ^ 1])
    with pytest.raises(crypto.DataKeyError, match="does not open"):
        keyring.decrypt_many([values[0], damaged], "profiles.genotypes")
    with pytest.raises(crypto.DataKeyError, match="does not open"):
        keyring.decrypt_many(values[:1], "match_flags.detail")  # moved to another column
