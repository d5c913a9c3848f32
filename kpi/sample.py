"""Deterministic sample dossiers for Thành phố Hà Nội, written the way field exports are.

The story the sample tells (so dashboards have something to show): one province over 2024-01 .. 2026-10,
spanning the abolition of districts on 1 July 2025, so both locality hierarchies appear: before the reform
dossiers name the old district and commune, after it only the new commune (district empty), and district
People's Committees disappear as receiving units. ~15 provincial departments carry their post-March-2025
names throughout (Sở Tài chính absorbed Kế hoạch và Đầu tư, Sở Nội vụ absorbed Lao động - TB&XH, Sở Xây dựng
absorbed Giao thông vận tải, Sở Nông nghiệp và Môi trường, ...), because that is how a system re-exports its
history. Volumes follow working days and dip in the Tết week, online submission and online payment rise
over time and differ by unit, a few units improve and a few get worse, some dossiers are late and some are
still open and overdue at the export date.

Everything is vectorised with numpy and formatted with DuckDB, so a million rows take seconds. A given seed
and arguments always give byte-identical files.

Unit identifiers (QCVN 102:2016/BTTTT, V1V2V3.Z1Z2.Y1Y2.MX1X2, level 1 = H26 for Hà Nội) used here:
- departments `000.00.NN.H26` with NN 01-15;
- district People's Committees (until 30 June 2025) `000.00.YY.H26`, YY = 31-60 in GSO district order;
- old communes (until 30 June 2025) `000.ZZ.YY.H26`, ZZ = the commune's rank (GSO order) in its district;
- new communes and wards (from 1 July 2025), which sit directly under the city: level 2 has only two digits,
  so the 126 of them are numbered in GSO order in blocks of 50 under the pseudo level-2 codes 61, 62, 63:
  `000.ZZ.61.H26` (communes 1-50), `000.ZZ.62.H26` (51-100), `000.ZZ.63.H26` (101-126). This scheme is the
  sample's own; real codes come from the city's published list.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np
import pandas as pd

from kpi import reference
from kpi.fields import FIELD_BY_NAME, FIELDS, VOCABULARIES

PROVINCE = reference.PROVINCE
PROVINCE_CODE = reference.PROVINCE_CODE
REFORM_DAY = date(2025, 7, 1)
SAMPLE_START = date(2024, 1, 1)
SAMPLE_END = date(2026, 10, 31)
AS_OF_LAG = timedelta(days=5)  # exports are pulled a few days after the period they cover

TET_DAYS = (date(2024, 2, 10), date(2025, 1, 29), date(2026, 2, 17))
# Public holidays (no desk receiving, not working days for due dates): Tết Dương lịch, Tết Nguyên đán,
# Giỗ Tổ Hùng Vương, 30/4-1/5, Quốc khánh, with the official bridge days.
HOLIDAYS = np.array([
    "2024-01-01", "2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13", "2024-02-14", "2024-04-18",
    "2024-04-29", "2024-04-30", "2024-05-01", "2024-09-02", "2024-09-03",
    "2025-01-01", "2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-04-07",
    "2025-04-30", "2025-05-01", "2025-05-02", "2025-09-01", "2025-09-02",
    "2026-01-01", "2026-01-02", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",
    "2026-04-27", "2026-04-30", "2026-05-01", "2026-08-31", "2026-09-01", "2026-09-02",
    "2027-01-01",
], dtype="datetime64[D]")

PERSONAL_COLUMNS = ("Họ tên người nộp", "Số điện thoại", "Địa chỉ", "Số CCCD")
EXPORT_FIELDS = tuple(f.name for f in FIELDS if f.name != "agency_code")  # the unit is read from the code
TITLE = "BÁO CÁO DANH SÁCH HỒ SƠ"
TOTAL_LABEL = "Tổng cộng"
TIMELINE_COLUMNS = ("_end_at", "_final_status", "_returned_at", "_supplements", "_is_stuck")

# --- units ---------------------------------------------------------------------------------------------

# (level-2 code, name, base on-time rate, trend, online offset). Trend +1 improves over the period, -1 worsens.
DEPARTMENTS: tuple[tuple[str, str, float, int, float], ...] = (
    ("01", "Sở Nội vụ", 0.975, 0, 0.3),
    ("02", "Sở Tư pháp", 0.985, 0, 0.6),
    ("03", "Sở Tài chính", 0.955, +1, 0.5),
    ("04", "Sở Xây dựng", 0.94, +1, -0.2),
    ("05", "Sở Y tế", 0.97, 0, 0.0),
    ("06", "Sở Giáo dục và Đào tạo", 0.98, 0, 0.4),
    ("07", "Sở Công Thương", 0.975, -1, 0.2),
    ("08", "Sở Văn hóa và Thể thao", 0.985, 0, -0.3),
    ("09", "Sở Du lịch", 0.99, 0, 0.5),
    ("10", "Sở Khoa học và Công nghệ", 0.98, 0, 0.8),
    ("11", "Sở Nông nghiệp và Môi trường", 0.95, -1, -0.5),
    ("12", "Sở Quy hoạch - Kiến trúc", 0.96, -1, -0.4),
    ("13", "Sở Dân tộc và Tôn giáo", 0.99, 0, -0.8),
    ("14", "Ban Quản lý các khu công nghiệp và chế xuất Hà Nội", 0.96, +1, 0.7),
    ("15", "Thanh tra thành phố Hà Nội", 0.97, 0, -1.0),
)
DEPT = {name: i for i, (_, name, *_rest) in enumerate(DEPARTMENTS)}

# --- procedures ----------------------------------------------------------------------------------------

# (sector, level, department for province level, name, statutory working days, fee VND, volume weight)
_P, _D, _C = "province", "district", "commune"
PROCEDURE_BASE: tuple[tuple[str, str, str, str, int, int, float], ...] = (
    ("Hộ tịch", _C, "", "Đăng ký khai sinh", 0, 0, 40),
    ("Hộ tịch", _C, "", "Đăng ký kết hôn", 0, 0, 12),
    ("Hộ tịch", _C, "", "Đăng ký khai tử", 0, 0, 8),
    ("Hộ tịch", _C, "", "Đăng ký thường trú hộ tịch kết hợp khai sinh, cấp thẻ BHYT cho trẻ dưới 6 tuổi", 3, 0, 10),
    ("Hộ tịch", _C, "", "Cấp giấy xác nhận tình trạng hôn nhân", 3, 0, 18),
    ("Hộ tịch", _C, "", "Đăng ký nhận cha, mẹ, con", 3, 0, 2),
    ("Hộ tịch", _C, "", "Thay đổi, cải chính, bổ sung thông tin hộ tịch", 3, 0, 5),
    ("Hộ tịch", _C, "", "Cấp bản sao trích lục hộ tịch", 0, 0, 14),
    ("Hộ tịch", _C, "", "Đăng ký giám hộ", 3, 0, 1),
    ("Hộ tịch", _D, "", "Đăng ký khai sinh có yếu tố nước ngoài", 3, 100_000, 2),
    ("Hộ tịch", _D, "", "Đăng ký kết hôn có yếu tố nước ngoài", 10, 1_000_000, 2),
    ("Hộ tịch", _D, "", "Ghi vào Sổ hộ tịch việc hộ tịch của công dân đã giải quyết tại nước ngoài", 5, 50_000, 1),
    ("Chứng thực", _C, "", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", 0, 0, 60),
    ("Chứng thực", _C, "", "Chứng thực chữ ký trong các giấy tờ, văn bản", 0, 0, 20),
    ("Chứng thực", _C, "", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản", 2, 50_000, 4),
    ("Chứng thực", _C, "", "Chứng thực di chúc", 2, 50_000, 1),
    ("Chứng thực", _D, "", "Chứng thực bản sao từ bản chính giấy tờ do cơ quan nước ngoài cấp", 0, 0, 10),
    ("Chứng thực", _D, "", "Chứng thực chữ ký người dịch", 0, 0, 6),
    ("Bảo trợ xã hội", _C, "", "Trợ cấp xã hội hằng tháng đối với người cao tuổi", 15, 0, 6),
    ("Bảo trợ xã hội", _C, "", "Xác định, xác định lại mức độ khuyết tật và cấp giấy xác nhận khuyết tật", 20, 0, 4),
    ("Bảo trợ xã hội", _C, "", "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", 7, 0, 2),
    ("Người có công", _C, "", "Hỗ trợ người có công với cách mạng cải thiện nhà ở", 15, 0, 1),
    ("Người có công", _C, "", "Giải quyết chế độ mai táng phí đối với cựu chiến binh", 7, 0, 2),
    ("Nông nghiệp", _C, "", "Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai, dịch bệnh", 10, 0, 1),
    ("Văn hóa", _C, "", "Công nhận danh hiệu Gia đình văn hóa", 5, 0, 1),
    ("Đất đai", _C, "", "Hòa giải tranh chấp đất đai", 30, 0, 2),
    ("Giáo dục", _C, "", "Chuyển trường đối với học sinh tiểu học", 3, 0, 3),
    ("Đăng ký kinh doanh", _D, "", "Đăng ký thành lập hộ kinh doanh", 3, 100_000, 12),
    ("Đăng ký kinh doanh", _D, "", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", 3, 50_000, 7),
    ("Đăng ký kinh doanh", _D, "", "Tạm ngừng kinh doanh, tiếp tục kinh doanh của hộ kinh doanh", 3, 0, 3),
    ("Đăng ký kinh doanh", _D, "", "Chấm dứt hoạt động hộ kinh doanh", 3, 0, 3),
    ("Đăng ký kinh doanh", _D, "", "Thành lập hợp tác xã", 5, 100_000, 1),
    ("Đất đai", _D, "", "Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất lần đầu", 20, 100_000, 9),
    ("Đất đai", _D, "", "Đăng ký biến động quyền sử dụng đất do chuyển nhượng, tặng cho, thừa kế", 10, 100_000, 14),
    ("Đất đai", _D, "", "Cấp đổi Giấy chứng nhận quyền sử dụng đất", 7, 50_000, 4),
    ("Đất đai", _D, "", "Chuyển mục đích sử dụng đất phải được phép của cơ quan nhà nước có thẩm quyền", 15, 0, 3),
    ("Đất đai", _D, "", "Tách thửa hoặc hợp thửa đất", 15, 0, 4),
    ("Đất đai", _D, "", "Xóa đăng ký cho thuê, cho thuê lại, góp vốn bằng quyền sử dụng đất", 3, 0, 1),
    ("Xây dựng", _D, "", "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", 15, 75_000, 8),
    ("Xây dựng", _D, "", "Cấp giấy phép sửa chữa, cải tạo đối với nhà ở riêng lẻ", 15, 75_000, 2),
    ("Xây dựng", _D, "", "Cấp giấy phép di dời công trình", 15, 75_000, 1),
    ("Lưu thông hàng hóa", _D, "", "Cấp giấy phép bán lẻ rượu", 10, 400_000, 2),
    ("Lưu thông hàng hóa", _D, "", "Cấp giấy phép bán lẻ sản phẩm thuốc lá", 10, 200_000, 1),
    ("Y tế", _D, "", "Cấp giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", 15, 500_000, 2),
    ("Giáo dục", _D, "", "Cho phép trường mầm non hoạt động giáo dục", 20, 0, 1),
    ("Giáo dục", _D, "", "Chuyển trường đối với học sinh trung học cơ sở", 3, 0, 3),
    ("Văn hóa", _D, "", "Cấp giấy phép đăng ký kinh doanh karaoke", 5, 1_000_000, 1),
    ("Lao động", _D, "", "Giải quyết hưởng trợ cấp thất nghiệp", 20, 0, 3),
    ("Môi trường", _D, "", "Đăng ký môi trường", 5, 0, 1),
    # province level
    ("Lý lịch tư pháp", _P, "Sở Tư pháp", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", 10, 200_000, 18),
    ("Lý lịch tư pháp", _P, "Sở Tư pháp", "Cấp Phiếu lý lịch tư pháp cho người nước ngoài", 15, 200_000, 2),
    ("Công chứng", _P, "Sở Tư pháp", "Đăng ký hoạt động Văn phòng công chứng", 10, 1_000_000, 1),
    ("Luật sư", _P, "Sở Tư pháp", "Đăng ký hoạt động của tổ chức hành nghề luật sư", 10, 100_000, 1),
    ("Đấu giá tài sản", _P, "Sở Tư pháp", "Đăng ký hoạt động của doanh nghiệp đấu giá tài sản", 7, 1_000_000, 1),
    ("Quốc tịch", _P, "Sở Tư pháp", "Xác nhận có quốc tịch Việt Nam", 20, 100_000, 1),
    ("Xây dựng", _P, "Sở Xây dựng", "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II",
     20, 150_000, 2),
    ("Xây dựng", _P, "Sở Xây dựng", "Thẩm định báo cáo nghiên cứu khả thi đầu tư xây dựng", 30, 0, 1),
    ("Xây dựng", _P, "Sở Xây dựng", "Cấp chứng chỉ hành nghề hoạt động xây dựng hạng II, hạng III", 20, 300_000, 3),
    ("Nhà ở", _P, "Sở Xây dựng", "Công nhận chủ đầu tư dự án nhà ở thương mại", 20, 0, 1),
    ("Giao thông vận tải", _P, "Sở Xây dựng", "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp", 5, 135_000, 22),
    ("Giao thông vận tải", _P, "Sở Xây dựng", "Cấp giấy phép kinh doanh vận tải bằng xe ô tô", 5, 200_000, 3),
    ("Giao thông vận tải", _P, "Sở Xây dựng", "Cấp phù hiệu xe taxi, xe hợp đồng, xe vận tải hàng hóa", 2, 0, 6),
    ("Giao thông vận tải", _P, "Sở Xây dựng", "Cấp giấy phép thi công công trình trên đường bộ đang khai thác",
     7, 0, 2),
    ("Khám bệnh, chữa bệnh", _P, "Sở Y tế", "Cấp giấy phép hành nghề khám bệnh, chữa bệnh", 20, 360_000, 4),
    ("Khám bệnh, chữa bệnh", _P, "Sở Y tế", "Cấp giấy phép hoạt động đối với phòng khám đa khoa", 30, 1_000_000, 1),
    ("Dược phẩm", _P, "Sở Y tế", "Cấp Chứng chỉ hành nghề dược", 20, 500_000, 3),
    ("Dược phẩm", _P, "Sở Y tế", "Cấp Giấy chứng nhận đủ điều kiện kinh doanh dược", 30, 1_000_000, 2),
    ("An toàn thực phẩm", _P, "Sở Y tế", "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", 15, 500_000, 2),
    ("Bảo trợ xã hội", _P, "Sở Y tế", "Cấp giấy chứng nhận đăng ký thành lập cơ sở trợ giúp xã hội", 15, 0, 1),
    ("Giáo dục", _P, "Sở Giáo dục và Đào tạo", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", 0, 0, 6),
    ("Giáo dục", _P, "Sở Giáo dục và Đào tạo", "Chỉnh sửa nội dung văn bằng, chứng chỉ", 5, 0, 2),
    ("Giáo dục", _P, "Sở Giáo dục và Đào tạo", "Cho phép trung tâm ngoại ngữ, tin học hoạt động giáo dục", 20, 0, 1),
    ("Giáo dục", _P, "Sở Giáo dục và Đào tạo", "Chuyển trường đối với học sinh trung học phổ thông", 3, 0, 4),
    ("Giáo dục", _P, "Sở Giáo dục và Đào tạo", "Công nhận văn bằng tốt nghiệp do cơ sở nước ngoài cấp", 20, 0, 1),
    ("Đăng ký doanh nghiệp", _P, "Sở Tài chính", "Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên",
     3, 50_000, 12),
    ("Đăng ký doanh nghiệp", _P, "Sở Tài chính", "Đăng ký thành lập công ty cổ phần", 3, 50_000, 5),
    ("Đăng ký doanh nghiệp", _P, "Sở Tài chính", "Đăng ký thay đổi người đại diện theo pháp luật của công ty",
     3, 50_000, 6),
    ("Đăng ký doanh nghiệp", _P, "Sở Tài chính", "Đăng ký thay đổi địa chỉ trụ sở chính của doanh nghiệp",
     3, 50_000, 6),
    ("Đăng ký doanh nghiệp", _P, "Sở Tài chính", "Thông báo tạm ngừng kinh doanh của doanh nghiệp", 3, 0, 4),
    ("Đăng ký doanh nghiệp", _P, "Sở Tài chính", "Giải thể doanh nghiệp", 5, 0, 3),
    ("Đầu tư", _P, "Sở Tài chính", "Chấp thuận chủ trương đầu tư của Ủy ban nhân dân cấp tỉnh", 30, 0, 1),
    ("Đầu tư", _P, "Sở Tài chính", "Cấp Giấy chứng nhận đăng ký đầu tư đối với dự án không thuộc diện chấp thuận",
     15, 0, 2),
    ("Quản lý công sản", _P, "Sở Tài chính", "Quyết định thanh lý tài sản công", 15, 0, 1),
    ("Lao động", _P, "Sở Nội vụ", "Cấp giấy phép lao động cho người lao động nước ngoài", 5, 600_000, 5),
    ("Lao động", _P, "Sở Nội vụ", "Xác nhận người lao động nước ngoài không thuộc diện cấp giấy phép lao động",
     3, 400_000, 2),
    ("Việc làm", _P, "Sở Nội vụ", "Cấp giấy phép hoạt động dịch vụ việc làm của doanh nghiệp", 7, 1_000_000, 1),
    ("Người có công", _P, "Sở Nội vụ", "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ", 12, 0, 1),
    ("Thi đua, khen thưởng", _P, "Sở Nội vụ", "Tặng Bằng khen của Chủ tịch Ủy ban nhân dân cấp tỉnh", 20, 0, 2),
    ("Tổ chức phi chính phủ", _P, "Sở Nội vụ", "Công nhận điều lệ (sửa đổi, bổ sung) của hội", 30, 0, 1),
    ("Lưu thông hàng hóa", _P, "Sở Công Thương", "Cấp giấy phép bán buôn rượu", 15, 1_000_000, 1),
    ("Lưu thông hàng hóa", _P, "Sở Công Thương", "Cấp giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu",
     15, 1_000_000, 1),
    ("Điện", _P, "Sở Công Thương", "Cấp giấy phép hoạt động điện lực", 15, 800_000, 1),
    ("Hóa chất", _P, "Sở Công Thương", "Cấp giấy chứng nhận đủ điều kiện sản xuất, kinh doanh hóa chất",
     12, 600_000, 1),
    ("Xúc tiến thương mại", _P, "Sở Công Thương", "Đăng ký thực hiện khuyến mại", 3, 0, 6),
    ("Thương mại quốc tế", _P, "Sở Công Thương",
     "Cấp giấy phép thành lập văn phòng đại diện của thương nhân nước ngoài",
     7, 1_000_000, 1),
    ("Văn hóa", _P, "Sở Văn hóa và Thể thao", "Cấp giấy phép tổ chức biểu diễn nghệ thuật", 5, 0, 2),
    ("Văn hóa", _P, "Sở Văn hóa và Thể thao", "Cấp giấy phép kinh doanh karaoke, vũ trường", 5, 1_000_000, 1),
    ("Thể dục thể thao", _P, "Sở Văn hóa và Thể thao", "Cấp giấy chứng nhận đủ điều kiện kinh doanh hoạt động thể thao",
     7, 500_000, 1),
    ("Xuất bản, in và phát hành", _P, "Sở Văn hóa và Thể thao", "Cấp giấy phép hoạt động in", 7, 0, 1),
    ("Báo chí", _P, "Sở Văn hóa và Thể thao", "Cấp giấy phép xuất bản bản tin", 10, 0, 1),
    ("Du lịch", _P, "Sở Du lịch", "Cấp giấy phép kinh doanh dịch vụ lữ hành nội địa", 10, 1_000_000, 1),
    ("Du lịch", _P, "Sở Du lịch", "Cấp thẻ hướng dẫn viên du lịch nội địa", 10, 200_000, 2),
    ("Du lịch", _P, "Sở Du lịch", "Công nhận hạng cơ sở lưu trú du lịch 1 sao, 2 sao, 3 sao", 30, 1_000_000, 1),
    ("Khoa học và công nghệ", _P, "Sở Khoa học và Công nghệ",
     "Cấp giấy chứng nhận đăng ký hoạt động khoa học và công nghệ",
     10, 0, 1),
    ("Tiêu chuẩn đo lường chất lượng", _P, "Sở Khoa học và Công nghệ",
     "Đăng ký công bố hợp chuẩn dựa trên kết quả tự đánh giá",
     5, 150_000, 2),
    ("Viễn thông và Internet", _P, "Sở Khoa học và Công nghệ",
     "Cấp giấy chứng nhận đăng ký cung cấp dịch vụ trò chơi điện tử",
     10, 0, 1),
    ("Bưu chính", _P, "Sở Khoa học và Công nghệ", "Cấp giấy phép bưu chính", 10, 0, 1),
    ("Đất đai", _P, "Sở Nông nghiệp và Môi trường", "Giao đất, cho thuê đất cho tổ chức", 20, 0, 2),
    ("Đất đai", _P, "Sở Nông nghiệp và Môi trường", "Đăng ký biến động đất đai đối với tổ chức", 10, 100_000, 3),
    ("Môi trường", _P, "Sở Nông nghiệp và Môi trường", "Cấp giấy phép môi trường", 30, 0, 2),
    ("Tài nguyên nước", _P, "Sở Nông nghiệp và Môi trường", "Cấp giấy phép khai thác nước dưới đất", 25, 600_000, 1),
    ("Khoáng sản", _P, "Sở Nông nghiệp và Môi trường",
     "Cấp giấy phép khai thác khoáng sản làm vật liệu xây dựng thông thường",
     30, 1_000_000, 1),
    ("Trồng trọt", _P, "Sở Nông nghiệp và Môi trường", "Cấp giấy chứng nhận đủ điều kiện buôn bán phân bón",
     15, 500_000, 1),
    ("Thú y", _P, "Sở Nông nghiệp và Môi trường", "Cấp giấy chứng nhận đủ điều kiện vệ sinh thú y", 10, 230_000, 1),
    ("Quy hoạch - kiến trúc", _P, "Sở Quy hoạch - Kiến trúc", "Cung cấp thông tin về quy hoạch xây dựng", 10, 0, 6),
    ("Quy hoạch - kiến trúc", _P, "Sở Quy hoạch - Kiến trúc", "Thẩm định nhiệm vụ, đồ án quy hoạch chi tiết xây dựng",
     20, 0, 1),
    ("Quy hoạch - kiến trúc", _P, "Sở Quy hoạch - Kiến trúc", "Cấp chứng chỉ hành nghề kiến trúc", 15, 300_000, 1),
    ("Quy hoạch - kiến trúc", _P, "Sở Quy hoạch - Kiến trúc", "Chấp thuận bản vẽ tổng mặt bằng, phương án kiến trúc",
     15, 0, 2),
    ("Tôn giáo", _P, "Sở Dân tộc và Tôn giáo", "Đăng ký hoạt động tín ngưỡng", 15, 0, 1),
    ("Tôn giáo", _P, "Sở Dân tộc và Tôn giáo", "Thông báo tổ chức lễ hội tín ngưỡng", 10, 0, 1),
    ("Dân tộc", _P, "Sở Dân tộc và Tôn giáo", "Công nhận người có uy tín trong đồng bào dân tộc thiểu số", 15, 0, 1),
    ("Đầu tư", _P, "Ban Quản lý các khu công nghiệp và chế xuất Hà Nội",
     "Cấp Giấy chứng nhận đăng ký đầu tư dự án trong khu công nghiệp", 15, 0, 2),
    ("Lao động", _P, "Ban Quản lý các khu công nghiệp và chế xuất Hà Nội",
     "Cấp giấy phép lao động cho người nước ngoài làm việc trong khu công nghiệp", 5, 600_000, 3),
    ("Xây dựng", _P, "Ban Quản lý các khu công nghiệp và chế xuất Hà Nội",
     "Cấp giấy phép xây dựng công trình trong khu công nghiệp", 20, 150_000, 1),
    ("Giải quyết khiếu nại", _P, "Thanh tra thành phố Hà Nội", "Giải quyết khiếu nại lần hai", 45, 0, 1),
    ("Giải quyết tố cáo", _P, "Thanh tra thành phố Hà Nội", "Giải quyết tố cáo", 30, 0, 1),
    ("Tiếp công dân", _P, "Thanh tra thành phố Hà Nội", "Tiếp công dân tại cấp tỉnh", 10, 0, 1),
)
N_PROCEDURES = 300

# Variants of licence-type procedures: (prefix to replace, replacement, days factor, volume factor)
_VARIANTS = (
    ("Cấp ", "Cấp lại ", 0.5, 0.25),
    ("Cấp ", "Điều chỉnh, bổ sung nội dung ", 0.7, 0.15),
    ("Cấp ", "Gia hạn ", 0.6, 0.15),
    ("Đăng ký ", "Đăng ký lại ", 0.7, 0.15),
    ("Chứng thực ", "Chứng thực việc sửa đổi, bổ sung, hủy bỏ ", 1.0, 0.1),
    ("Công nhận ", "Công nhận lại ", 0.7, 0.1),
    ("Cho phép ", "Cho phép hoạt động trở lại: ", 0.7, 0.05),
    ("Giải quyết ", "Điều chỉnh mức hưởng: ", 0.8, 0.1),
    ("Thẩm định ", "Thẩm định điều chỉnh ", 0.8, 0.1),
    ("Trợ cấp ", "Thôi hưởng trợ cấp ", 0.5, 0.1),
    ("Hỗ trợ ", "Điều chỉnh mức hỗ trợ ", 0.5, 0.05),
)

# --- people --------------------------------------------------------------------------------------------

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý", "Đinh", "Trịnh", "Đào", "Mai", "Tạ"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Ngọc", "Quang", "Hữu", "Thanh", "Hoàng", "Thị Thu", "Xuân",
          "Tiến", "Kim", "Bảo"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Lan",
         "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn",
         "Việt", "Yến", "Khánh", "Đạt", "Thắng", "Huyền", "Trung", "Ngọc", "Cường", "Lộc"]
STREETS = ["Trần Hưng Đạo", "Lê Lợi", "Nguyễn Trãi", "Giải Phóng", "Kim Mã", "Láng Hạ", "Tây Sơn", "Bạch Mai",
           "Hoàng Quốc Việt", "Cầu Giấy", "Nguyễn Văn Cừ", "Quang Trung", "Lạc Long Quân", "Minh Khai",
           "Phạm Văn Đồng", "Xã Đàn", "Ngọc Lâm", "Hồ Tùng Mậu"]


# --- tables of units and procedures ---------------------------------------------------------------------


def _unit_level_name(kind_and_name: str) -> str:
    """'Quận Ba Đình' -> 'UBND quận Ba Đình', 'Thị trấn Tây Đằng' -> 'UBND thị trấn Tây Đằng'."""
    return "UBND " + kind_and_name[0].lower() + kind_and_name[1:]


def _units(rng: np.random.Generator) -> pd.DataFrame:
    """All receiving units: departments (both eras), districts and old communes (before), new communes (after)."""
    old = reference.units_before_reform()
    new = reference.units_after_reform()
    rows: list[dict] = []
    for nn, name, on_time, trend, online in DEPARTMENTS:
        rows.append(dict(code=f"000.00.{nn}.{PROVINCE_CODE}", name=name, level="province", era="both",
                         district="", commune="", on_time=on_time, trend=trend, online=online, weight=1.0))
    districts = old[["district", "district_code"]].drop_duplicates().reset_index(drop=True)
    district_yy = {d: 31 + i for i, d in enumerate(districts["district"])}
    # Units whose story is a trend: two districts that got better, one that got worse, before the reform.
    district_trend = {"Huyện Sóc Sơn": -1, "Quận Long Biên": +1, "Huyện Thạch Thất": +1}
    on_time_draw = rng.uniform(0.93, 0.995, len(districts))
    online_draw = rng.normal(0.0, 0.5, len(districts))
    size_draw = rng.lognormal(0.0, 0.4, len(districts))
    for i, d in enumerate(districts["district"]):
        rows.append(dict(code=f"000.00.{district_yy[d]:02d}.{PROVINCE_CODE}", name=_unit_level_name(d),
                         level="district", era="old", district=d, commune="", on_time=on_time_draw[i],
                         trend=district_trend.get(d, 0), online=online_draw[i], weight=size_draw[i]))
    duplicated = old["commune"].duplicated(keep=False)
    rank = old.groupby("district").cumcount() + 1
    on_time_draw = rng.uniform(0.93, 0.998, len(old))
    online_draw = rng.normal(0.0, 0.6, len(old))
    size_draw = rng.lognormal(0.0, 0.6, len(old))
    for i, (d, c) in enumerate(zip(old["district"], old["commune"], strict=True)):
        name = _unit_level_name(c) + (f" ({d[0].lower() + d[1:]})" if duplicated.iloc[i] else "")
        rows.append(dict(code=f"000.{rank.iloc[i]:02d}.{district_yy[d]:02d}.{PROVINCE_CODE}", name=name,
                         level="commune", era="old", district=d, commune=c, on_time=on_time_draw[i], trend=0,
                         online=online_draw[i], weight=size_draw[i]))
    on_time_draw = rng.uniform(0.93, 0.995, len(new))
    online_draw = rng.normal(0.0, 0.5, len(new))
    size_draw = rng.lognormal(0.0, 0.35, len(new))
    for i, c in enumerate(new["commune"]):
        rows.append(dict(code=f"000.{i % 50 + 1:02d}.{61 + i // 50}.{PROVINCE_CODE}", name=_unit_level_name(c),
                         level="commune", era="new", district="", commune=c, on_time=on_time_draw[i], trend=0,
                         online=online_draw[i], weight=size_draw[i]))
    units = pd.DataFrame(rows)
    assert units["code"].is_unique
    return units


def _procedures(rng: np.random.Generator) -> pd.DataFrame:
    """~300 procedures: the base catalogue plus licence variants, with codes, service levels and fees."""
    rows = [dict(sector=s, level=lv, department=dept, name=n, days=d, fee=f, weight=float(w))
            for s, lv, dept, n, d, f, w in PROCEDURE_BASE]
    names = {r["name"] for r in rows}
    for old_prefix, new_prefix, days_factor, weight_factor in _VARIANTS:
        for base in list(rows[: len(PROCEDURE_BASE)]):
            if len(rows) >= N_PROCEDURES:
                break
            if base["name"].startswith(old_prefix):
                name = new_prefix + base["name"][len(old_prefix):]
                name = name[0].upper() + name[1:]
                if name not in names:
                    names.add(name)
                    rows.append(dict(base, name=name, days=int(round(base["days"] * days_factor)),
                                     weight=base["weight"] * weight_factor))
    # Top up with "thủ tục nội bộ"-style low-volume procedures per sector until N_PROCEDURES.
    k = 0
    base_rows = rows[: len(PROCEDURE_BASE)]
    while len(rows) < N_PROCEDURES:
        base = base_rows[k % len(base_rows)]
        k += 1
        name = f"{base['name']} (trường hợp {'hồ sơ điện tử' if k % 2 else 'ủy quyền'})"
        if name not in names:
            names.add(name)
            rows.append(dict(base, name=name, weight=base["weight"] * 0.05))
    procs = pd.DataFrame(rows)
    n = len(procs)
    numbers = rng.choice(np.arange(100, 14_000), size=n, replace=False)
    first = np.where(rng.random(n) < 0.7, 1, 2)
    procs["code"] = [f"{a}.{b:06d}" for a, b in zip(first, numbers, strict=True)]
    procs["service_level"] = rng.choice(["full_online", "partial_online", "offline"], size=n, p=[0.42, 0.36, 0.22])
    # High-volume civil-status and business procedures are full-process online nationally.
    full = procs["name"].isin(["Đăng ký khai sinh", "Đăng ký khai tử", "Đăng ký thành lập hộ kinh doanh",
                               "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam",
                               "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp",
                               "Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên"])
    procs.loc[full, "service_level"] = "full_online"
    procs.loc[procs["name"].str.startswith("Chứng thực bản sao từ bản chính giấy tờ, văn bản"),
              "service_level"] = "partial_online"
    procs["weight"] = procs["weight"] * rng.lognormal(0.0, 0.3, n)
    return procs


# --- the generator -----------------------------------------------------------------------------------------


def _day_weights(days: np.ndarray) -> np.ndarray:
    """Receiving volume by calendar day: working days, a rush before Tết and a sharp dip in the Tết week."""
    weekday = ((days.astype("datetime64[D]").astype(np.int64) - 4) % 7)  # 0 = Monday
    weight = np.where(weekday < 5, 1.0, np.where(weekday == 5, 0.06, 0.0))
    weight = np.where(np.isin(days, HOLIDAYS), 0.02, weight)
    for tet in TET_DAYS:
        delta = (days - np.datetime64(tet)).astype(np.int64)
        weight = weight * np.where((delta >= -28) & (delta < -14), 1.15, 1.0)
        weight = weight * np.where((delta >= -14) & (delta < -4), 1.4, 1.0)
        weight = weight * np.where((delta >= -4) & (delta <= 7), 0.12, 1.0)
        weight = weight * np.where((delta > 7) & (delta <= 14), 0.75, 1.0)
    years = (days - np.datetime64("2024-01-01")).astype(np.int64) / 365.25
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    seasonal = 1.0 + 0.08 * np.isin(month, [3, 10, 11, 12]) - 0.06 * np.isin(month, [6, 7])
    return weight * (1.0 + 0.07 * years) * seasonal


def _busday(day: np.ndarray, offset: np.ndarray) -> np.ndarray:
    return np.busday_offset(day, offset, roll="forward", holidays=HOLIDAYS)


def _pick(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn with the given (unnormalised) weights."""
    cumulative = np.cumsum(weights)
    return np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _work_time(rng: np.random.Generator, size: int) -> np.ndarray:
    """Seconds after midnight within office hours (7:30-11:30, 13:30-17:00)."""
    seconds = rng.integers(0, 4 * 3600 + int(3.5 * 3600), size)
    return np.where(seconds < 4 * 3600, 7.5 * 3600 + seconds, 13.5 * 3600 + seconds - 4 * 3600).astype(np.int64)


def default_as_of(end: date) -> datetime:
    """The export moment of a sample ending on `end`: a few days later, at midnight."""
    return datetime.combine(end + AS_OF_LAG, datetime.min.time())


def generate_dossiers(rows: int, seed: int = 2025, start: date = SAMPLE_START, end: date = SAMPLE_END, *,
                      city_seed: int | None = None, trend_period: tuple[date, date] | None = None) -> pd.DataFrame:
    """`rows` dossiers received between `start` and `end`, in canonical columns and codes (kpi.fields).

    The state is the final one as of `default_as_of(end)`; the private timeline columns (`_end_at`,
    `_final_status`, `_returned_at`, `_supplements`, `_is_stuck`) let `state_as_of` and `write_export`
    show any earlier moment. Rows are sorted by received time; dossier codes are unique.

    Parts of one larger sample (see `write_sample`) pass the sample's seed as `city_seed`, so that they
    share one city (units and their habits, procedures and their codes) while `seed` draws their own
    dossiers, and the sample's period as `trend_period` (default `start`..`end`), over which online use,
    payments and unit trends evolve, so that each part continues the story instead of restarting it.
    """
    rng = np.random.default_rng(seed if city_seed is None else city_seed)
    units = _units(rng)
    procs = _procedures(rng)
    if city_seed is not None:
        rng = np.random.default_rng(seed)
    n = int(rows)

    # When: a working day weighted by season and Tết, a time in office hours.
    days = np.arange(np.datetime64(start), np.datetime64(end) + 1, dtype="datetime64[D]")
    day = days[_pick(rng, _day_weights(days), n)]
    day.sort()
    received = day.astype("datetime64[s]") + _work_time(rng, n).astype("timedelta64[s]")
    new_era = day >= np.datetime64(REFORM_DAY)
    trend_start, trend_end = trend_period or (start, end)
    span = (np.datetime64(trend_end) - np.datetime64(trend_start)).astype(np.int64) or 1
    progress = (day - np.datetime64(trend_start)).astype(np.int64) / span  # 0 at start, 1 at end

    # Who: level by era, then unit and procedure.
    u = rng.random(n)
    level = np.where(new_era, np.where(u < 0.32, "province", "commune"),
                     np.where(u < 0.30, "province", np.where(u < 0.55, "district", "commune")))
    proc_idx = np.zeros(n, dtype=np.int64)
    unit_idx = np.zeros(n, dtype=np.int64)
    plevel = procs["level"].to_numpy()
    for lv, era_new, proc_levels, unit_era in (
        ("province", None, ("province",), "both"),
        ("district", False, ("district",), "old"),
        ("commune", False, ("commune",), "old"),
        ("commune", True, ("commune", "district"), "new"),  # district procedures moved to communes in 2025
    ):
        mask = level == lv
        if era_new is not None:
            mask &= new_era == era_new
        count = int(mask.sum())
        candidates = np.flatnonzero(np.isin(plevel, proc_levels))
        proc_idx[mask] = candidates[_pick(rng, procs["weight"].to_numpy()[candidates], count)]
        if lv == "province":
            dept_codes = units.index[units["level"] == "province"].to_numpy()
            dept_of_proc = procs["department"].map(DEPT).fillna(-1).to_numpy(dtype=np.int64)
            unit_idx[mask] = dept_codes[dept_of_proc[proc_idx[mask]]]
        else:
            pool = np.flatnonzero(((units["level"] == lv) & (units["era"] == unit_era)).to_numpy())
            unit_idx[mask] = pool[_pick(rng, units["weight"].to_numpy()[pool], count)]

    # Where: the applicant's locality in the hierarchy of the day.
    old = reference.units_before_reform()
    new = reference.units_after_reform()
    u_level = units["level"].to_numpy()[unit_idx]
    u_district = units["district"].to_numpy()[unit_idx]
    u_commune = units["commune"].to_numpy()[unit_idx]
    old_commune_idx = rng.integers(0, len(old), n)
    # District units serve applicants from their own communes: draw a commune inside the district.
    first = old.reset_index().groupby("district")["index"].agg(["min", "count"])
    at_district = u_level == "district"
    lo = first["min"].reindex(u_district[at_district]).to_numpy()
    cnt = first["count"].reindex(u_district[at_district]).to_numpy()
    old_commune_idx[at_district] = lo + (rng.random(int(at_district.sum())) * cnt).astype(np.int64)
    district = old["district"].to_numpy()[old_commune_idx].astype(object)
    commune = old["commune"].to_numpy()[old_commune_idx].astype(object)
    at_commune = u_level == "commune"
    district[at_commune] = u_district[at_commune]
    commune[at_commune] = u_commune[at_commune]
    new_commune = new["commune"].to_numpy()[rng.integers(0, len(new), n)].astype(object)
    commune = np.where(new_era, np.where(at_commune, u_commune, new_commune), commune)
    district = np.where(new_era, "", district)

    # How: channel from the service level and the unit's online habit, rising over time.
    service_level = procs["service_level"].to_numpy()[proc_idx]
    unit_online = units["online"].to_numpy()[unit_idx]
    logit = -1.25 + 2.6 * progress + unit_online
    p_online = np.where(service_level == "full_online", _sigmoid(logit + 0.5),
                        np.where(service_level == "partial_online", _sigmoid(logit - 0.6), 0.0))
    u = rng.random(n)
    channel = np.where(u < p_online, "online", np.where(u > 1 - 0.035, "postal", "direct")).astype(object)

    # Deadlines and lateness: due = received + statutory working days; unit-specific late rate with trends.
    statutory = procs["days"].to_numpy()[proc_idx]
    due_day = _busday(day, statutory)
    due = np.where(statutory == 0, due_day.astype("datetime64[s]") + np.timedelta64(17 * 3600, "s"),
                   due_day.astype("datetime64[s]") + (received - day.astype("datetime64[s]")))
    late_base = 1.0 - units["on_time"].to_numpy()[unit_idx]
    trend = units["trend"].to_numpy()[unit_idx]
    late_p = late_base * np.where(trend > 0, 2.6 ** (1 - 2 * progress),
                                  np.where(trend < 0, 2.6 ** (2 * progress - 1), 1.0))
    late_p = late_p * np.where(channel == "online", 0.85, 1.0) * np.where(statutory == 0, 0.5, 1.0)
    supplements = np.where(rng.random(n) < 0.07, np.where(rng.random(n) < 0.8, 1, 2), 0)
    late_p = np.minimum(late_p * np.where(supplements > 0, 2.0, 1.0), 0.6)
    is_late = rng.random(n) < late_p
    is_stuck = is_late & (rng.random(n) < 0.06)
    early_days = np.floor(statutory * rng.beta(1.6, 2.2, n)).astype(np.int64)
    late_days = 1 + rng.geometric(0.35, n) + np.where(is_stuck, rng.integers(20, 160, n), 0)
    finish_day = np.where(is_late, _busday(due_day, late_days), _busday(day, early_days))
    finished = finish_day.astype("datetime64[s]") + _work_time(rng, n).astype("timedelta64[s]")
    # Work finished on the day of receipt happens between receipt and closing time (17:30).
    closing = day.astype("datetime64[s]") + np.timedelta64(63_000, "s")
    to_closing = np.maximum((closing - received).astype(np.int64), 600)
    earliest = received + (to_closing * rng.uniform(0.1, 1.0, n)).astype("timedelta64[s]")
    finished = np.maximum(finished, earliest)

    # Outcome: most resolved and returned; a few withdrawn, stopped or not accepted.
    u = rng.random(n)
    final_status = np.select([u < 0.010, u < 0.025, u < 0.032, u < 0.072], [3, 7, 8, 9], default=10)
    between = received + ((finished - received) * rng.uniform(0.1, 0.9, n)).astype("timedelta64[s]")
    end_at = np.where(final_status == 3, received + rng.integers(900, 6 * 3600, n).astype("timedelta64[s]"),
                      np.where(np.isin(final_status, (7, 8)), between, finished))
    is_online = channel == "online"
    e_result = rng.random(n) < np.clip(0.25 + 0.55 * progress + 0.15 * is_online, 0, 0.97)
    # Electronic results of online dossiers are returned within the hour; paper ones when collected.
    pickup_day = _busday(finish_day, rng.geometric(0.55, n) - 1)
    pickup = np.maximum(pickup_day.astype("datetime64[s]") + _work_time(rng, n).astype("timedelta64[s]"),
                        finished + np.timedelta64(300, "s"))
    quick = finished + rng.integers(60, 3600, n).astype("timedelta64[s]")
    returned = np.where(final_status == 10, np.where(e_result & is_online, quick, pickup), np.datetime64("NaT"))

    fee = procs["fee"].to_numpy()[proc_idx]
    p_paid = np.where(is_online, 0.50 + 0.25 * progress, 0.06 + 0.06 * progress) * np.exp(0.3 * unit_online)
    paid_online = (fee > 0) & (rng.random(n) < np.clip(p_paid, 0, 0.98))
    digitized = rng.random(n) < np.clip(0.40 + 0.40 * progress + 0.12 * is_online, 0, 0.97)
    rated = rng.random(n) < np.where(is_online, 0.30, 0.12)
    unhappy = rng.random(n) < np.where(is_late, 0.35, 0.025)
    rating = np.where(rated, np.where(unhappy, "dissatisfied", np.where(rng.random(n) < 0.55, "very_satisfied",
                                                                             "satisfied")), None).astype(object)
    rating[~np.isin(final_status, (9, 10))] = None
    due = np.where(rng.random(n) < 0.002, np.datetime64("NaT"), due)

    unit_code = units["code"].to_numpy()[unit_idx]
    proc_code = procs["code"].to_numpy()[proc_idx].astype(object)
    suffixed = rng.random(n) < 0.03
    proc_code[suffixed] = proc_code[suffixed] + f".000.00.00.{PROVINCE_CODE}"

    frame = pd.DataFrame({
        "procedure_code": proc_code,
        "procedure_name": procs["name"].to_numpy()[proc_idx],
        "sector": procs["sector"].to_numpy()[proc_idx],
        "agency_code": unit_code,
        "agency_name": units["name"].to_numpy()[unit_idx],
        "agency_level": u_level,
        "province": PROVINCE,
        "district": district,
        "commune": commune,
        "channel": channel,
        "service_level": service_level,
        "received_at": received,
        "due_at": due.astype("datetime64[s]"),
        "fee_vnd": fee.astype(np.int64),
        "paid_online": paid_online,
        "digitized": digitized,
        "_e_result": e_result,
        "_rating": rating,
        "_end_at": end_at.astype("datetime64[s]"),
        "_final_status": final_status.astype(np.int64),
        "_returned_at": returned.astype("datetime64[s]"),
        "_supplements": supplements.astype(np.int64),
        "_is_stuck": is_stuck,
    })
    # Code = unit - YYMMDD - sequence of the unit's day, in order of receipt.
    frame = frame.sort_values(["received_at", "agency_code"], kind="stable").reset_index(drop=True)
    seq = frame.groupby([frame["agency_code"], frame["received_at"].dt.floor("D")], sort=False).cumcount() + 1
    if int(seq.max()) > 9999:
        raise ValueError("more than 9999 dossiers for one unit on one day; lower `rows` or widen the period")
    received_day = frame["received_at"].to_numpy().astype("datetime64[D]")
    year = received_day.astype("datetime64[Y]").astype(np.int64) + 1970
    month = received_day.astype("datetime64[M]").astype(np.int64) % 12 + 1
    mday = (received_day - received_day.astype("datetime64[M]")).astype(np.int64) + 1
    yymmdd = ((year % 100) * 10_000 + month * 100 + mday) * 10_000 + seq.to_numpy()
    digits = pd.Series(yymmdd).astype(str).str.zfill(10)
    frame.insert(0, "dossier_code", frame["agency_code"] + "-" + digits.str[:6] + "-" + digits.str[6:])
    state = state_as_of(frame, default_as_of(end))
    return state


def state_as_of(frame: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """The dossiers as an export pulled at `as_of` shows them.

    Dossiers received after `as_of` are left out; those not finished by then are in progress (2, 4, 5 or 6
    by how far along they are); a result returned after `as_of` is still "resolved" (9). The timeline
    columns are kept so that the result can be re-stated at another moment.
    """
    t = np.datetime64(as_of, "s")
    out = frame[frame["received_at"].to_numpy() <= t].copy()
    received = out["received_at"].to_numpy()
    end_at = out["_end_at"].to_numpy()
    final = out["_final_status"].to_numpy()
    done = end_at <= t
    elapsed = (t - received).astype(np.float64)
    length = np.maximum((end_at - received).astype(np.float64), 1.0)
    phase = elapsed / length
    supplements = out["_supplements"].to_numpy()
    fee = out["fee_vnd"].to_numpy()
    open_status = np.select(
        [phase < 0.03, (supplements > 0) & (phase > 0.3) & (phase < 0.55), (fee > 0) & (phase > 0.85)],
        [2, 5, 6], default=4)
    returned = out["_returned_at"].to_numpy()
    is_returned = done & (returned <= t)
    status = np.where(done, np.where((final == 10) & ~is_returned, 9, final), open_status)
    out["status"] = status.astype(np.int64)
    out["finished_at"] = np.where(done, end_at, np.datetime64("NaT")).astype("datetime64[s]")
    out["returned_at"] = np.where(is_returned, returned, np.datetime64("NaT")).astype("datetime64[s]")
    resolved = np.isin(status, (9, 10))
    out["supplement_count"] = np.where(done | (phase > 0.3), supplements, 0).astype(np.int64)
    out["e_result"] = resolved & out["_e_result"].to_numpy()
    out["rating"] = np.where(resolved, out["_rating"].to_numpy(), None)
    return out


# --- export files ------------------------------------------------------------------------------------------


def _header(name: str) -> str:
    return FIELD_BY_NAME[name].aliases[0]


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(_sql_text(v) for v in values) + "]"


def _personal_draws(n: int, seed: int) -> pd.DataFrame:
    """Integer draws from which SQL builds fake applicants (names, phones, addresses, ID numbers)."""
    rng = np.random.default_rng([seed, n, 7])
    return pd.DataFrame({
        "_female": rng.random(n) < 0.5,
        "_family": rng.integers(1, len(FAMILY) + 1, n),
        "_middle": rng.integers(1, len(MIDDLE) + 1, n),
        "_given": rng.integers(1, len(GIVEN) + 1, n),
        "_phone_prefix": rng.integers(1, len(PHONE_PREFIXES) + 1, n),
        "_phone": rng.integers(0, 10_000_000, n),
        "_birth_year": rng.integers(1950, 2006, n),
        "_id_serial": rng.integers(0, 1_000_000, n),
        "_house": rng.integers(1, 300, n),
        "_street": rng.integers(1, len(STREETS) + 1, n),
    })


PHONE_PREFIXES = ["090", "091", "093", "094", "096", "097", "098", "086", "088", "032", "035", "039"]


def _export_columns() -> list[tuple[str, str, str]]:
    """(header, SQL expression over the state table, kind) for every export column, in order.

    Kinds: text, int, money, date. Labels come from the vocabularies of kpi.fields; STT is the row number
    `_stt` that `_export_rows` registers.
    """
    columns: list[tuple[str, str, str]] = [("STT", "_stt", "int")]
    for name in EXPORT_FIELDS:
        field = FIELD_BY_NAME[name]
        header = field.aliases[0]
        if field.vocabulary == "bool":
            columns.append((header, f"CASE WHEN {name} THEN 'Có' ELSE 'Không' END", "text"))
        elif field.vocabulary is not None:
            cases = " ".join(
                f"WHEN {name} = {t.code if isinstance(t.code, int) else _sql_text(t.code)} THEN {_sql_text(t.label_vi)}"
                for t in VOCABULARIES[field.vocabulary])
            columns.append((header, f"CASE {cases} END", "text"))
        elif field.kind == "timestamp":
            columns.append((header, name, "date"))
        elif field.kind == "money":
            columns.append((header, name, "money"))
        elif field.kind == "int":
            columns.append((header, name, "int"))
        else:
            columns.append((header, f"NULLIF({name}, '')", "text"))
    name_sql = (f"{_sql_list(FAMILY)}[_family] || ' ' || CASE WHEN _female AND {_sql_list(MIDDLE)}[_middle] = 'Văn' "
                f"THEN 'Thị' ELSE {_sql_list(MIDDLE)}[_middle] END || ' ' || {_sql_list(GIVEN)}[_given]")
    phone_sql = f"{_sql_list(PHONE_PREFIXES)}[_phone_prefix] || lpad(CAST(_phone AS VARCHAR), 7, '0')"
    address_sql = (f"'Số ' || _house || ' ' || {_sql_list(STREETS)}[_street] || ', ' || commune "
                   "|| CASE WHEN coalesce(district, '') = '' THEN '' ELSE ', ' || district END || ', Hà Nội'")
    id_sql = ("'001' || (CASE WHEN _female THEN 1 ELSE 0 END + CASE WHEN _birth_year >= 2000 THEN 2 ELSE 0 END) "
              "|| lpad(CAST(_birth_year % 100 AS VARCHAR), 2, '0') || lpad(CAST(_id_serial AS VARCHAR), 6, '0')")
    columns += [("Họ tên người nộp", name_sql, "text"), ("Số điện thoại", phone_sql, "text"),
                ("Địa chỉ", address_sql, "text"), ("Số CCCD", id_sql, "text")]
    return columns


def _export_headers() -> list[str]:
    return [c[0] for c in _export_columns()]


def _export_rows(con: duckdb.DuckDBPyConnection, state: pd.DataFrame, seed: int, *, as_text: bool,
                 row_offset: int = 0) -> duckdb.DuckDBPyRelation:
    """Register the state and return its export rows (formatted as text for CSV), STT from `row_offset` + 1.

    The rows are put in order (received time, code) and numbered here rather than in SQL: a window and an
    ORDER BY would make DuckDB hold every formatted row at once (~2 GB for a million), while a plain scan
    streams, and keeps the registered order (preserve_insertion_order, on by default).
    """
    keep = ["dossier_code", *[n for n in EXPORT_FIELDS if n != "dossier_code"]]
    table = pd.concat([state[keep].reset_index(drop=True), _personal_draws(len(state), seed)], axis=1)
    table = table.sort_values(["received_at", "dossier_code"], kind="stable", ignore_index=True)
    table["_stt"] = np.arange(row_offset + 1, row_offset + len(table) + 1)
    con.register("export_state", table)
    select = []
    for i, (_, expr, kind) in enumerate(_export_columns()):
        if as_text and kind == "date":
            expr = f"strftime({expr}, '%d/%m/%Y %H:%M:%S')"
        elif as_text and kind == "money":
            expr = f"replace(format('{{:,}}', {expr}), ',', '.')"
        elif as_text and kind == "int":
            expr = f"CAST({expr} AS VARCHAR)"
        select.append(f'{expr} AS "c{i}"')
    return con.sql(f"SELECT {', '.join(select)} FROM export_state")


def _quote(cell: str) -> str:
    return f'"{cell}"' if any(ch in cell for ch in ';"\n') else cell


def _csv_line(cells: list[str]) -> bytes:
    return (";".join(cells) + "\r\n").encode()


def _write_csv_head(handle: BinaryIO, title: list[str] | None) -> None:
    """BOM, the title rows and a blank row (with `title`), then the header: Excel in a Vietnamese locale."""
    headers = _export_headers()
    pad = [""] * (len(headers) - 1)
    handle.write("\ufeff".encode())
    if title:
        for line in title:
            handle.write(_csv_line([_quote(line), *pad]))
        handle.write(_csv_line(["", *pad]))
    handle.write(_csv_line([_quote(c) for c in headers]))


def _write_csv_body(handle: BinaryIO, state: pd.DataFrame, seed: int, row_offset: int = 0) -> None:
    """The rows of `state`, formatted by DuckDB, STT counting on from `row_offset`."""
    con = duckdb.connect()
    try:
        rows = _export_rows(con, state, seed, as_text=True, row_offset=row_offset)
        with tempfile.TemporaryDirectory() as tmp:
            body = os.path.join(tmp, "body.csv")
            rows.write_csv(body, sep=";", header=False)
            with open(body, "rb") as src:  # Excel writes CRLF; no value holds a line break
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    handle.write(chunk.replace(b"\n", b"\r\n"))
    finally:
        con.close()


def _write_csv_total(handle: BinaryIO, count: int, fee_vnd: int) -> None:
    """The closing "Tổng cộng" row: the number of dossiers and their total fee."""
    headers = _export_headers()
    total = [""] * len(headers)
    total[0] = TOTAL_LABEL
    total[1] = str(count)
    total[headers.index(_header("fee_vnd"))] = f"{fee_vnd:,}".replace(",", ".")
    handle.write(_csv_line(total))


def _write_csv(state: pd.DataFrame, seed: int, handle: BinaryIO, title: list[str] | None) -> None:
    """Semicolon CSV with BOM, as Excel in a Vietnamese locale saves it; rows formatted by DuckDB."""
    _write_csv_head(handle, title)
    _write_csv_body(handle, state, seed)
    _write_csv_total(handle, len(state), int(state["fee_vnd"].sum()))


@contextmanager
def _csv_handle(path: Path) -> Iterator[BinaryIO]:
    """The binary handle a CSV export is written to; `.csv.gz` is gzipped reproducibly (no name, no time)."""
    if path.name.lower().endswith(".gz"):
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                    compresslevel=9) as handle:
            yield handle
    else:
        with open(path, "wb") as handle:
            yield handle


def _write_xlsx(state: pd.DataFrame, seed: int, path: Path, title: list[str] | None) -> None:
    """Excel workbook with real date cells, written row by row in constant memory."""
    import xlsxwriter

    columns = _export_columns()
    con = duckdb.connect()
    try:
        table = _export_rows(con, state, seed, as_text=False).df()
    finally:
        con.close()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"created": datetime(2000, 1, 1)})  # no "now" inside: files are reproducible
    sheet = book.add_worksheet("Danh sach ho so")
    bold = book.add_format({"bold": True})
    date_fmt = book.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
    money_fmt = book.add_format({"num_format": "#,##0"})
    row = 0
    if title:
        for line in title:
            sheet.write_string(row, 0, line, bold)
            row += 1
        row += 1
    sheet.write_row(row, 0, [c[0] for c in columns], bold)
    row += 1
    epoch = np.datetime64("1899-12-30T00:00:00", "s")
    writers = []
    for i, (_, _, kind) in enumerate(columns):
        values = table[f"c{i}"]
        if kind == "date":
            stamps = values.to_numpy(dtype="datetime64[s]")
            serial = np.where(np.isnat(stamps), np.nan, (stamps - epoch).astype(np.float64) / 86_400.0)
            writers.append((i, [None if np.isnan(v) else float(v) for v in serial], sheet.write_number, date_fmt))
        elif kind in ("int", "money"):
            writers.append((i, values.astype("float64").tolist(), sheet.write_number,
                            money_fmt if kind == "money" else None))
        else:
            writers.append((i, values.astype(object).where(values.notna(), None).tolist(), sheet.write_string, None))
    for r in range(len(table)):
        for i, values, write, fmt in writers:
            value = values[r]
            if value is not None:
                write(row, i, value, fmt)
        row += 1
    money_col = _export_headers().index(_header("fee_vnd"))
    sheet.write_string(row, 0, TOTAL_LABEL, bold)
    sheet.write_number(row, 1, len(table), bold)
    sheet.write_number(row, money_col, float(state["fee_vnd"].sum()), money_fmt)
    book.close()


def _title(period: tuple[date, date] | None) -> list[str]:
    """The title rows: the report title and the "Từ ngày ... đến ngày ..." line (dots for no period)."""
    if period is None:
        return [TITLE, "Từ ngày ... đến ngày ..."]
    return [TITLE, f"Từ ngày {period[0]:%d/%m/%Y} đến ngày {period[1]:%d/%m/%Y}"]


def write_export(frame: pd.DataFrame, path: Path, *, as_of: datetime | None = None, title: bool = True,
                 period: tuple[date, date] | None = None, seed: int = 2025) -> Path:
    """Write dossiers as a field export (Vietnamese headers and labels); format from the suffix.

    `.csv` is UTF-8 with BOM and semicolons (Excel in a Vietnamese locale), `.csv.gz` the same gzipped,
    `.xlsx` a workbook with real date cells. With `as_of`, each dossier is shown as it stood then (see
    `state_as_of`); otherwise `frame` is written as it is. `title` adds the report title rows above the
    header and a "Tổng cộng" row at the end, as one-stop systems print them; `period` fills the
    "Từ ngày ... đến ngày ..." line (default: the received dates). `agency_code` is left out on purpose,
    so the importer has to read the unit from the dossier code; fake personal-data columns are added so
    that it has something to drop.
    """
    path = Path(path)
    state = state_as_of(frame, as_of) if as_of is not None else frame
    if period is None and len(state):
        period = (state["received_at"].min().date(), state["received_at"].max().date())
    lines = _title(period) if title else None
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name.lower()
    if name.endswith(".xlsx"):
        _write_xlsx(state, seed, path, lines)
    elif name.endswith((".csv", ".csv.gz")):
        with _csv_handle(path) as handle:
            _write_csv(state, seed, handle, lines)
    else:
        raise ValueError(f"unknown export format for {path.name}: use .csv, .csv.gz or .xlsx")
    return path


CHUNK_ROWS = 1_000_000  # more rows than this are generated and written part by part


def _sample_parts(rows: int) -> list[tuple[date, date, int]]:
    """(first day, last day, rows) of the parts of a chunked sample, in order.

    Consecutive groups of whole months covering SAMPLE_START..SAMPLE_END, about rows / CHUNK_ROWS of them
    (at most one per month), with rows proportional to their days and summing to `rows`.
    """
    months = []
    first = SAMPLE_START
    while first <= SAMPLE_END:
        nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        months.append((first, min(nxt - timedelta(days=1), SAMPLE_END)))
        first = nxt
    count = min(len(months), -(-rows // CHUNK_ROWS))
    cuts = [len(months) * j // count for j in range(count + 1)]
    spans = [(months[a][0], months[b - 1][1]) for a, b in pairwise(cuts)]
    days = [(last - first).days + 1 for first, last in spans]
    counts = [rows * d // sum(days) for d in days]
    # The rows left over by rounding down go to the parts with the largest remainders.
    by_remainder = sorted(range(count), key=lambda i: -(rows * days[i] % sum(days)))
    for i in by_remainder[: rows - sum(counts)]:
        counts[i] += 1
    return [(first, last, n) for (first, last), n in zip(spans, counts, strict=True)]


def write_sample(path: Path, rows: int = 200_000, seed: int = 2025, *,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """One export of `rows` dossiers over the whole sample period, in their final state (for `kpi sample`).

    Up to CHUNK_ROWS rows are generated in one frame. More (`.csv` and `.csv.gz` only) are generated in
    parts of whole months (`_sample_parts`), each sharing the city and story of `seed` and drawing its own
    dossiers, re-stated as of the export moment of the whole period and appended to the one file, so that
    memory stays that of one part; the file reads like any export (one title, one header, STT 1..N, one
    total row). `progress(parts done, parts)` is called after each part.
    """
    path = Path(path)
    if rows <= CHUNK_ROWS:
        frame = generate_dossiers(rows, seed=seed)
        return write_export(frame, path, period=(SAMPLE_START, SAMPLE_END), seed=seed)
    name = path.name.lower()
    if name.endswith(".xlsx"):
        raise ValueError(f"{rows:,} rows is too many for an .xlsx sample (at most {CHUNK_ROWS:,}; an Excel sheet "
                         "holds 1,048,576 rows): use .csv or .csv.gz")
    if not name.endswith((".csv", ".csv.gz")):
        raise ValueError(f"unknown export format for {path.name}: use .csv or .csv.gz")
    parts = _sample_parts(rows)
    as_of = default_as_of(SAMPLE_END)
    written = fee_vnd = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with _csv_handle(path) as handle:
        _write_csv_head(handle, _title((SAMPLE_START, SAMPLE_END)))
        for i, (first, last, count) in enumerate(parts):
            part_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
            frame = generate_dossiers(count, seed=part_seed, start=first, end=last, city_seed=seed,
                                      trend_period=(SAMPLE_START, SAMPLE_END))
            state = state_as_of(frame, as_of)  # the final state, not the one at the end of the part
            del frame
            # Codes are unit-YYMMDD-seq, unique within a part: disjoint days keep them unique in the file.
            received = state["received_at"]
            assert len(state) == count and received.iloc[0].date() >= first and received.iloc[-1].date() <= last
            _write_csv_body(handle, state, part_seed, row_offset=written)
            written += count
            fee_vnd += int(state["fee_vnd"].sum())
            del state, received  # freed before the next part is generated
            if progress is not None:
                progress(i + 1, len(parts))
        _write_csv_total(handle, written, fee_vnd)
    return path


BUNDLED_ROWS = 216_000


def _quarters(start: date, end: date) -> list[tuple[date, date]]:
    quarters = []
    first = date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
    while first <= end:
        nxt = date(first.year + (first.month + 2) // 12, (first.month + 2) % 12 + 1, 1)
        quarters.append((max(first, start), min(nxt - timedelta(days=1), end)))
        first = nxt
    return quarters


def write_bundled_sample(out_dir: Path, seed: int = 2025) -> list[Path]:
    """The bundled sample: quarterly exports `ho_so_YYYY_qN.csv.gz`, each pulled a few days after its quarter.

    Each holds the dossiers received in the quarter plus those carried over, still open at the quarter
    start, so a dossier open across a quarter end appears twice, with a more advanced status in the later
    file: loading them in order exercises the importer's re-import rule.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = generate_dossiers(BUNDLED_ROWS, seed=seed)
    paths = []
    for q_start, q_end in _quarters(SAMPLE_START, SAMPLE_END):
        state = state_as_of(frame, default_as_of(q_end))
        t0 = np.datetime64(datetime.combine(q_start, datetime.min.time()), "s")
        received = state["received_at"].to_numpy()
        carried = (received < t0) & ~(state["_end_at"].to_numpy() < t0)
        part = state[(received >= t0) | carried]
        name = f"ho_so_{q_start.year}_q{(q_start.month - 1) // 3 + 1}.csv.gz"
        paths.append(write_export(part, out_dir / name, period=(q_start, q_end), seed=seed))
    return paths
