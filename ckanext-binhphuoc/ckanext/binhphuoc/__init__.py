"""Cổng dữ liệu mở: CKAN extensions for Vietnamese provinces."""
