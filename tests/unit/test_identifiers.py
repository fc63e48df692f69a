from desktop.models.identifiers import (
    cqc_id_problem,
    is_synthetic_nhs_number,
    is_valid_nhs_number,
    nhs_check_digit,
    pcn_code_problem,
    practice_code_problem,
)


def test_reference_worked_examples():
    assert is_valid_nhs_number("943 476 5919")
    assert is_valid_nhs_number("4698194180")
    # REFERENCE §8.1 pitfall: a published example whose check digit would be 10.
    assert not is_valid_nhs_number("999 123 4560")
    assert nhs_check_digit("999123456") is None


def test_first_valid_numbers_of_the_999_range():
    found = []
    stem = 999000000
    while len(found) < 8:
        stem += 1
        check = nhs_check_digit(str(stem))
        if check is not None:
            found.append(f"{stem}{check}")
    assert found == [
        "9990000018",
        "9990000026",
        "9990000034",
        "9990000042",
        "9990000050",
        "9990000069",
        "9990000077",
        "9990000085",
    ]


def test_wrong_length_letters_and_bad_check_digit_are_invalid():
    assert not is_valid_nhs_number("943476591")
    assert not is_valid_nhs_number("94347659190")
    assert not is_valid_nhs_number("94347A5919")
    assert not is_valid_nhs_number("9434765918")


def test_synthetic_range_is_9000000000_to_9999999999():
    assert is_synthetic_nhs_number("9990000018")
    assert not is_synthetic_nhs_number("4698194180")


def test_code_formats():
    assert practice_code_problem("C82001") is None
    assert "ODS code" in practice_code_problem("C8200")
    assert practice_code_problem("c82001") is not None
    assert pcn_code_problem("U12345") is None and pcn_code_problem("12345") is not None
    assert cqc_id_problem("1-187729429") is None
    assert cqc_id_problem("1-5363147216") is None
    assert cqc_id_problem("REF00") is not None
    assert cqc_id_problem("1-1234") is not None
