-- Illustrative copy of a Sở Y tế database (sample data written for this
-- project, not official figures). harvesters/examples/so-y-te.sqlite is built
-- from this file:
--   rm -f harvesters/examples/so-y-te.sqlite
--   .venv/bin/python -c "import sqlite3; c = sqlite3.connect('harvesters/examples/so-y-te.sqlite'); c.executescript(open('harvesters/examples/so-y-te.sql', encoding='utf-8').read()); c.commit()"
CREATE TABLE co_so_kham_chua_benh (
    ma_co_so TEXT PRIMARY KEY,
    ten_co_so TEXT NOT NULL,
    loai_hinh TEXT NOT NULL,
    xa_phuong TEXT,
    huyen TEXT,
    so_giuong_ke_hoach INTEGER,
    vi_do REAL,
    kinh_do REAL,
    cap_nhat_luc TEXT NOT NULL
);
INSERT INTO co_so_kham_chua_benh VALUES
 ('BV-01', 'Bệnh viện Đa khoa tỉnh Bình Phước', 'Bệnh viện đa khoa tuyến tỉnh', 'Phường Tân Phú', 'Thành phố Đồng Xoài', 900, 11.5378, 106.8990, '2026-09-30 08:00:00'),
 ('BV-02', 'Bệnh viện Y học cổ truyền tỉnh Bình Phước', 'Bệnh viện chuyên khoa tuyến tỉnh', 'Phường Tân Bình', 'Thành phố Đồng Xoài', 150, 11.5312, 106.8876, '2026-09-30 08:00:00'),
 ('TTYT-01', 'Trung tâm Y tế thành phố Đồng Xoài', 'Trung tâm y tế tuyến huyện', 'Phường Tân Xuân', 'Thành phố Đồng Xoài', 120, 11.5421, 106.8803, '2026-09-30 08:00:00'),
 ('TTYT-02', 'Trung tâm Y tế thị xã Bình Long', 'Trung tâm y tế tuyến huyện', 'Phường An Lộc', 'Thị xã Bình Long', 250, 11.6524, 106.6051, '2026-09-30 08:00:00'),
 ('TTYT-03', 'Trung tâm Y tế thị xã Phước Long', 'Trung tâm y tế tuyến huyện', 'Phường Long Phước', 'Thị xã Phước Long', 200, 11.8302, 106.9954, '2026-09-30 08:00:00'),
 ('TYT-01', 'Trạm Y tế xã Tiến Hưng', 'Trạm y tế xã', 'Xã Tiến Hưng', 'Thành phố Đồng Xoài', 5, 11.5105, 106.8552, '2026-09-30 08:00:00'),
 ('TYT-02', 'Trạm Y tế xã Thanh Lương', 'Trạm y tế xã', 'Xã Thanh Lương', 'Thị xã Bình Long', 5, 11.6871, 106.5740, '2026-09-30 08:00:00');

CREATE TABLE tiem_chung_quy (
    huyen TEXT NOT NULL,
    quy TEXT NOT NULL,
    so_tre_duoc_tiem_du_mui INTEGER NOT NULL,
    ty_le_phan_tram REAL NOT NULL,
    PRIMARY KEY (huyen, quy)
);
INSERT INTO tiem_chung_quy VALUES
 ('Thành phố Đồng Xoài', '2026-Q2', 1830, 97.2),
 ('Thị xã Bình Long', '2026-Q2', 1012, 96.1),
 ('Thị xã Phước Long', '2026-Q2', 934, 95.4),
 ('Thành phố Đồng Xoài', '2026-Q3', 1857, 97.6),
 ('Thị xã Bình Long', '2026-Q3', 1020, 96.5),
 ('Thị xã Phước Long', '2026-Q3', 951, 95.9);
