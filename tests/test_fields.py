"""The canonical record's registry: every spelling of DOMAIN §3 maps where it should."""

from __future__ import annotations

import pytest

from kpi.fields import FIELDS, VOCABULARIES, match_header, parse_term, strip_diacritics, term_label

DOMAIN_HEADERS = {  # DOMAIN.md §3, as printed there
    "dossier_code": ["Mã hồ sơ", "Ma ho so", "MaHoSo", "Số hồ sơ", "Mã biên nhận"],
    "procedure_code": ["Mã TTHC", "Mã thủ tục", "MaTTHC"],
    "procedure_name": ["Tên TTHC", "Tên thủ tục", "Thủ tục", "TenTTHC"],
    "sector": ["Lĩnh vực", "Tên lĩnh vực", "TenLinhVuc"],
    "agency_code": ["Mã đơn vị", "Mã cơ quan", "MaDonVi"],
    "agency_name": ["Cơ quan giải quyết", "Đơn vị xử lý", "Đơn vị tiếp nhận", "Đơn vị", "DonViXuLy"],
    "agency_level": ["Cấp thực hiện", "Cấp"],
    "province": ["Tỉnh/Thành phố", "Tỉnh", "TinhThanhDiaBan"],
    "district": ["Quận/Huyện", "Huyện", "QuanHuyenDiaBan"],
    "commune": ["Xã/Phường/Thị trấn", "Xã/Phường", "XaPhuongDiaBan"],
    "channel": ["Hình thức nộp", "Kênh nộp", "Kênh thực hiện", "KenhThucHien"],
    "service_level": ["Mức độ DVC", "Mức độ", "MucDo"],
    "received_at": ["Ngày tiếp nhận", "Ngày nhận", "NgayTiepNhan"],
    "due_at": ["Ngày hẹn trả", "Hẹn trả", "Ngày hẹn trả kết quả", "NgayHenTra"],
    "finished_at": ["Ngày kết thúc xử lý", "Ngày hoàn thành", "Ngày có kết quả", "NgayKetThucXuLy"],
    "returned_at": ["Ngày trả kết quả", "Ngày trả", "NgayTra"],
    "status": ["Trạng thái", "Trạng thái hồ sơ", "TrangThaiHoSo"],
    "supplement_count": ["Số lần bổ sung"],
    "fee_vnd": ["Phí, lệ phí", "Lệ phí", "Số tiền", "Phí (VNĐ)"],
    "paid_online": ["Thanh toán trực tuyến", "Đã thanh toán trực tuyến", "DuocThanhToanTrucTuyen"],
    "digitized": ["Số hóa", "Hồ sơ có thành phần số hóa", "HoSoCoThanhPhanSoHoa"],
    "e_result": ["Kết quả điện tử", "Có kết quả điện tử", "DaSoHoaKetQua"],
    "rating": ["Đánh giá", "Mức độ hài lòng"],
}


def test_the_registry_covers_every_canonical_field_of_domain() -> None:
    assert [f.name for f in FIELDS] == list(DOMAIN_HEADERS)


@pytest.mark.parametrize(("name", "header"), [(n, h) for n, hs in DOMAIN_HEADERS.items() for h in hs])
def test_every_domain_header_maps_in_every_spelling(name: str, header: str) -> None:
    for variant in (header, header.upper(), f"  {header} ", strip_diacritics(header), header.replace(" ", "  ")):
        assert match_header(variant) == name, variant


@pytest.mark.parametrize("header", ["STT", "Họ tên", "Số điện thoại", "Địa chỉ", "Số CCCD", "Ghi chú", ""])
def test_personal_and_unknown_columns_map_to_nothing(header: str) -> None:
    assert match_header(header) is None


@pytest.mark.parametrize("vocabulary", list(VOCABULARIES))
def test_every_term_reads_back_from_code_label_and_english(vocabulary: str) -> None:
    for term in VOCABULARIES[vocabulary]:
        for spelling in (str(term.code), term.label_vi, term.label_en, strip_diacritics(term.label_vi).upper()):
            assert parse_term(vocabulary, spelling) == term.code, spelling
        assert term_label(vocabulary, term.code) == term.label_vi
        assert term_label(vocabulary, term.code, "en") == term.label_en


def test_domain_value_examples() -> None:
    assert parse_term("channel", "BCCI") == "postal"
    assert parse_term("channel", "Fax") is None
    assert parse_term("service_level", "mức độ 4") == "full_online"
    assert parse_term("service_level", "Mức độ 3") == "partial_online"
    assert parse_term("service_level", "mức độ 2") == "offline"
    assert parse_term("status", "Công dân yêu cầu rút hồ sơ") == 7
    assert parse_term("status", "10.0") == 10
    assert [parse_term("bool", v) for v in ("Có", "x", "1", "true", "yes", "Không", "0", "false", "no")] == [
        True] * 5 + [False] * 4
    assert parse_term("rating", "Không hài lòng") == "dissatisfied"
