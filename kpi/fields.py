"""The canonical dossier record: fields, header aliases and value vocabularies.

This module is the one place where the spellings found in field exports (DOMAIN.md §3) become the
project's canonical names and codes. The importer, the sample writer and the tests all read it;
nothing else in the package knows how a header or a label is spelled in the wild.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --- text keys --------------------------------------------------------------------------------------


def nfc(text: str) -> str:
    """Unicode NFC: exports from some tools write Vietnamese accents decomposed."""
    return unicodedata.normalize("NFC", text)


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese diacritics (đ/Đ included, which Unicode does not decompose)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_SPACES = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def exact_key(text: str) -> str:
    """Key for matching with accents: NFC, case-folded, trimmed, inner spaces folded."""
    return _SPACES.sub(" ", nfc(text).strip().casefold())


def loose_key(text: str) -> str:
    """Key for matching without accents, spaces or punctuation ("Mã hồ sơ" ~ "MaHoSo")."""
    return _NON_ALNUM.sub("", strip_diacritics(exact_key(text)))


# --- vocabularies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One value of a vocabulary: the stored code and every spelling accepted for it."""

    code: str | int
    label_vi: str
    label_en: str
    spellings: tuple[str, ...] = ()


CHANNELS: tuple[Term, ...] = (
    Term("direct", "Trực tiếp", "Direct (at the desk)",
         ("1", "trực tiếp", "nộp trực tiếp", "tại quầy", "direct", "offline", "counter")),
    Term("online", "Trực tuyến", "Online",
         ("2", "trực tuyến", "nộp trực tuyến", "qua mạng", "dịch vụ công trực tuyến", "online")),
    Term("postal", "Bưu chính công ích", "Public postal service",
         ("3", "bưu chính công ích", "bưu chính", "qua bưu chính", "qua bưu chính công ích", "bcci",
          "bưu điện", "postal", "post")),
)

SERVICE_LEVELS: tuple[Term, ...] = (
    Term("full_online", "DVCTT toàn trình", "Full-process online",
         ("full_online", "toàn trình", "dvctt toàn trình", "dịch vụ công trực tuyến toàn trình",
          "trực tuyến toàn trình", "mức độ 4", "mức 4", "4", "full", "full online")),
    Term("partial_online", "DVCTT một phần", "Partly online",
         ("partial_online", "một phần", "dvctt một phần", "dịch vụ công trực tuyến một phần",
          "trực tuyến một phần", "mức độ 3", "mức 3", "3", "partial", "partial online")),
    Term("offline", "Không trực tuyến", "Not online",
         ("offline", "không", "không trực tuyến", "dịch vụ công cung cấp thông tin", "cung cấp thông tin",
          "mức độ 1", "mức độ 2", "mức 1", "mức 2", "1", "2", "not online")),
)

STATUSES: tuple[Term, ...] = (
    Term(1, "Mới đăng ký", "Registered", ("mới đăng ký", "đăng ký mới", "mới", "registered", "new")),
    Term(2, "Được tiếp nhận", "Received", ("được tiếp nhận", "đã tiếp nhận", "tiếp nhận", "received")),
    Term(3, "Không được tiếp nhận", "Not accepted",
         ("không được tiếp nhận", "không tiếp nhận", "từ chối tiếp nhận", "từ chối", "not accepted",
          "rejected")),
    Term(4, "Đang xử lý", "In progress",
         ("đang xử lý", "đang giải quyết", "đang thụ lý", "in progress", "processing")),
    Term(5, "Yêu cầu bổ sung giấy tờ", "Supplement requested",
         ("yêu cầu bổ sung giấy tờ", "yêu cầu bổ sung", "chờ bổ sung", "bổ sung hồ sơ",
          "supplement requested")),
    Term(6, "Yêu cầu thực hiện nghĩa vụ tài chính", "Awaiting payment",
         ("yêu cầu thực hiện nghĩa vụ tài chính", "chờ thực hiện nghĩa vụ tài chính", "chờ thanh toán",
          "awaiting payment")),
    Term(7, "Công dân yêu cầu rút hồ sơ", "Withdrawn",
         ("công dân yêu cầu rút hồ sơ", "rút hồ sơ", "đã rút hồ sơ", "withdrawn")),
    Term(8, "Dừng xử lý", "Processing stopped", ("dừng xử lý", "dừng giải quyết", "stopped")),
    Term(9, "Đã xử lý xong", "Resolved",
         ("đã xử lý xong", "đã giải quyết", "đã giải quyết xong", "hoàn thành", "resolved", "done")),
    Term(10, "Đã trả kết quả", "Result returned",
         ("đã trả kết quả", "trả kết quả", "result returned", "returned")),
)
TERMINAL_STATUSES: tuple[int, ...] = (3, 7, 8, 9, 10)
RESOLVED_STATUSES: tuple[int, ...] = (9, 10)

AGENCY_LEVELS: tuple[Term, ...] = (
    Term("province", "Cấp tỉnh", "Province", ("tỉnh", "cấp tỉnh", "thành phố", "cấp thành phố", "province")),
    Term("district", "Cấp huyện", "District",
         ("huyện", "cấp huyện", "quận", "cấp quận", "quận/huyện", "district")),
    Term("commune", "Cấp xã", "Commune",
         ("xã", "cấp xã", "phường", "xã/phường", "xã/phường/thị trấn", "commune", "ward")),
)

RATINGS: tuple[Term, ...] = (
    Term("very_satisfied", "Rất hài lòng", "Very satisfied", ("rất hài lòng", "very satisfied", "very_satisfied")),
    Term("satisfied", "Hài lòng", "Satisfied", ("hài lòng", "satisfied")),
    Term("dissatisfied", "Không hài lòng", "Dissatisfied",
         ("không hài lòng", "chưa hài lòng", "dissatisfied", "not satisfied")),
)

BOOLEANS: tuple[Term, ...] = (
    Term(True, "Có", "Yes", ("có", "x", "1", "true", "yes", "y", "đã", "đã thanh toán", "đã số hóa", "v", "✓")),
    Term(False, "Không", "No", ("không", "0", "false", "no", "n", "chưa", "chưa thanh toán", "chưa số hóa")),
)

VOCABULARIES: dict[str, tuple[Term, ...]] = {
    "channel": CHANNELS,
    "service_level": SERVICE_LEVELS,
    "status": STATUSES,
    "agency_level": AGENCY_LEVELS,
    "rating": RATINGS,
    "bool": BOOLEANS,
}

# What a blank cell means, where it means something (DOMAIN §3): blank service level is offline,
# a blank yes/no is no.
BLANK_MEANS: dict[str, str | bool] = {"service_level": "offline", "bool": False}


def _vocabulary_index(terms: tuple[Term, ...]) -> dict[str, str | int | bool]:
    index: dict[str, str | int | bool] = {}
    for term in terms:
        for spelling in (str(term.code), term.label_vi, term.label_en, *term.spellings):
            for key in (exact_key(spelling), loose_key(spelling)):
                index.setdefault(key, term.code)
    return index


_VOCAB_INDEX = {name: _vocabulary_index(terms) for name, terms in VOCABULARIES.items()}


def parse_term(vocabulary: str, raw: str) -> str | int | bool | None:
    """Map one raw cell to its vocabulary code, or None when it is not a known spelling.

    Accepts the code, the Vietnamese label, the English word and the listed variants, with or
    without accents; a numeric code written as a float by Excel ("2.0") is read as its integer.
    """
    index = _VOCAB_INDEX[vocabulary]
    key = exact_key(raw)
    if re.fullmatch(r"\d+\.0+", key):
        key = key.split(".")[0]
    found = index.get(key)
    if found is None:
        found = index.get(loose_key(raw))
    return found


def term_label(vocabulary: str, code: str | int | bool | None, lang: str = "vi") -> str:
    """The display label of a stored code, in Vietnamese or English."""
    for term in VOCABULARIES[vocabulary]:
        if term.code == code:
            return term.label_vi if lang == "vi" else term.label_en
    return ""


# --- fields -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One canonical column of the dossier record.

    `kind` says how the importer parses it: text, code (text read verbatim), enum (with `vocabulary`),
    timestamp, int, money, bool. The first alias is the spelling the sample writer uses.
    """

    name: str
    kind: str
    required: bool
    aliases: tuple[str, ...]
    label_vi: str
    label_en: str
    vocabulary: str | None = None


FIELDS: tuple[Field, ...] = (
    Field("dossier_code", "code", True,
          ("Mã hồ sơ", "Ma ho so", "MaHoSo", "Số hồ sơ", "Mã biên nhận", "Số biên nhận"),
          "Mã hồ sơ", "Dossier code"),
    Field("procedure_code", "code", True, ("Mã TTHC", "Mã thủ tục", "MaTTHC", "Mã thủ tục hành chính"),
          "Mã TTHC", "Procedure code"),
    Field("procedure_name", "text", False,
          ("Tên TTHC", "Tên thủ tục", "Thủ tục", "TenTTHC", "Tên thủ tục hành chính", "Thủ tục hành chính"),
          "Tên thủ tục", "Procedure"),
    Field("sector", "text", False, ("Lĩnh vực", "Tên lĩnh vực", "TenLinhVuc"), "Lĩnh vực", "Sector"),
    Field("agency_code", "code", False, ("Mã đơn vị", "Mã cơ quan", "MaDonVi"), "Mã đơn vị", "Unit code"),
    Field("agency_name", "text", False,
          ("Cơ quan giải quyết", "Đơn vị xử lý", "Đơn vị tiếp nhận", "Đơn vị", "DonViXuLy", "Cơ quan thực hiện"),
          "Cơ quan giải quyết", "Agency"),
    Field("agency_level", "enum", False, ("Cấp thực hiện", "Cấp", "Cấp giải quyết"), "Cấp thực hiện", "Level",
          "agency_level"),
    Field("province", "text", False, ("Tỉnh/Thành phố", "Tỉnh", "TinhThanhDiaBan", "Tỉnh/TP"),
          "Tỉnh/Thành phố", "Province"),
    Field("district", "text", False, ("Quận/Huyện", "Huyện", "QuanHuyenDiaBan", "Quận/Huyện/Thị xã"),
          "Quận/Huyện", "District"),
    Field("commune", "text", False,
          ("Xã/Phường/Thị trấn", "Xã/Phường", "XaPhuongDiaBan", "Xã/Phường/Đặc khu", "Phường/Xã"),
          "Xã/Phường", "Commune"),
    Field("channel", "enum", True,
          ("Hình thức nộp", "Kênh nộp", "Kênh thực hiện", "KenhThucHien", "Hình thức tiếp nhận"),
          "Hình thức nộp", "Channel", "channel"),
    Field("service_level", "enum", False, ("Mức độ DVC", "Mức độ", "MucDo", "Mức độ dịch vụ công"),
          "Mức độ DVC", "Service level", "service_level"),
    Field("received_at", "timestamp", True, ("Ngày tiếp nhận", "Ngày nhận", "NgayTiepNhan", "Thời gian tiếp nhận"),
          "Ngày tiếp nhận", "Received"),
    Field("due_at", "timestamp", False,
          ("Ngày hẹn trả", "Hẹn trả", "Ngày hẹn trả kết quả", "NgayHenTra", "Hạn xử lý"),
          "Ngày hẹn trả", "Due"),
    Field("finished_at", "timestamp", False,
          ("Ngày kết thúc xử lý", "Ngày hoàn thành", "Ngày có kết quả", "NgayKetThucXuLy"),
          "Ngày kết thúc xử lý", "Finished"),
    Field("returned_at", "timestamp", False, ("Ngày trả kết quả", "Ngày trả", "NgayTra"),
          "Ngày trả kết quả", "Returned"),
    Field("status", "enum", True, ("Trạng thái", "Trạng thái hồ sơ", "TrangThaiHoSo", "Tình trạng"),
          "Trạng thái", "Status", "status"),
    Field("supplement_count", "int", False, ("Số lần bổ sung", "SoLanBoSung"), "Số lần bổ sung",
          "Supplement requests"),
    Field("fee_vnd", "money", False, ("Phí, lệ phí", "Lệ phí", "Số tiền", "Phí (VNĐ)", "Phí lệ phí", "Phí"),
          "Phí, lệ phí (VNĐ)", "Fee (VND)"),
    Field("paid_online", "bool", False,
          ("Thanh toán trực tuyến", "Đã thanh toán trực tuyến", "DuocThanhToanTrucTuyen"),
          "Thanh toán trực tuyến", "Paid online", "bool"),
    Field("digitized", "bool", False, ("Số hóa", "Hồ sơ có thành phần số hóa", "HoSoCoThanhPhanSoHoa", "Số hoá"),
          "Số hóa", "Digitised", "bool"),
    Field("e_result", "bool", False, ("Kết quả điện tử", "Có kết quả điện tử", "DaSoHoaKetQua"),
          "Kết quả điện tử", "Electronic result", "bool"),
    Field("rating", "enum", False, ("Đánh giá", "Mức độ hài lòng", "Kết quả đánh giá"), "Đánh giá", "Rating",
          "rating"),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
REQUIRED: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)


def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for field in FIELDS:
        for alias in (field.name, *field.aliases):
            for key in (exact_key(alias), loose_key(alias)):
                other = index.setdefault(key, field.name)
                if other != field.name:
                    raise ValueError(f"header alias {alias!r} is claimed by {other} and {field.name}")
    return index


_HEADER_INDEX = _header_index()


def match_header(header: str) -> str | None:
    """The canonical field a header names, or None for a column the product does not keep."""
    if not header:
        return None
    return _HEADER_INDEX.get(exact_key(header)) or _HEADER_INDEX.get(loose_key(header))


def accepted_spellings(name: str) -> str:
    """The accepted header spellings of a field, for error messages."""
    return ", ".join(f'"{a}"' for a in FIELD_BY_NAME[name].aliases)
