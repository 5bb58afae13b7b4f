"""The one parser for comma-separated numbers and cross-page choices (CLI, service and batch manifests)."""

from __future__ import annotations

import pytest

from sealkit.errors import InvalidInput
from sealkit.flows import parse_numbers, parse_pages


def test_numbers_are_read_as_given():
    assert parse_numbers("10,20.5,50,-5", 4, "--rect") == (10.0, 20.5, 50.0, -5.0)


@pytest.mark.parametrize("value", ["10,20,50", "10,20,50,50,1", "a,b,c,d", "", "nan,1,2,3", "1,inf,2,3"])
def test_a_wrong_count_words_or_non_finite_numbers_are_refused_by_name(value):
    with pytest.raises(InvalidInput, match="--rect takes 4 comma-separated numbers"):
        parse_numbers(value, 4, "--rect")


def test_pages_none_all_or_listed():
    assert parse_pages(None, "--cross-page") is False
    assert parse_pages("all", "--cross-page") is True
    assert parse_pages("1,3", "--cross-page") == (1, 3)


@pytest.mark.parametrize("value", ["1.5", "1,x", "", "ALL,2"])
def test_pages_that_are_not_whole_numbers_are_refused(value):
    with pytest.raises(InvalidInput, match="cross_page takes all or comma-separated page numbers"):
        parse_pages(value, "cross_page")
