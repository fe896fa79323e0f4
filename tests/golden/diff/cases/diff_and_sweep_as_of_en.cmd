diff old.policy new.policy --households households.jsonl --as-of 2025-06-01 --only ID- --sweep income_line=8000,8500,9000 --chart {tmp}/chart.svg --lang en
# expected
# policy text changes (old → new):
#   header 小政策: changed
#      policy "小政策" {
#     -  version "2024.1"
#     +  version "2025.1"
#        as_of   2024-06-05
#      }
#   param 监测收入基准: changed
#      param 监测收入基准 income_line: money unit "元/人/年" cite "示例 一(一)" {
#     -  2024-01-01: 8300 cite "2024 年基准"
#     +  2024-01-01: 8500 cite "2025 年基准"
#     +  2025-01-01: 8700 cite "2025 年基准 (下半年)"
#      }
#   param 大病阈值: changed
#      param 大病阈值: money unit "元" {
#     -  2024-01-01: 10000
#     +  2024-01-01: 8000
#      }
#   rule ID-2: changed
#      rule ID-2 边缘易致贫户候选 cite "示例 一(一)"
#     -  when kind = "一般户" and pcni <= 监测收入基准 and risk
#     -  then "一般户人均纯收入不高于基准且有风险"
#     +  when kind = "一般户" and pcni <= 监测收入基准 and risk and size >= 2
#     +  then "一般户人均纯收入不高于基准且有风险 (两口及以上)"
#   table 收入段: changed
#      table 收入段 hit first {
#        | id  | pcni                || 段         |
#     +  | B-0 | <= 监测收入基准 / 2 || "基准一半" |
#        | B-1 | <= 监测收入基准     || "基准内"   |
#        | B-2 | > 监测收入基准      || "基准上"   |
#      }
#
# changes in decisions: read 21, compared 19, rejected 2, as of 2025-06-01
#
#   none → ID-1: 4 households
#     for example household H-02 (households.jsonl:2)
#       old: ID-1 脱贫不稳定户候选 〔示例 一(一)〕 — does not hold
#         ✓ kind = 脱贫户
#         ✗ pcni 8,400.00 is above income_line 8,300.00 by 100.00; holds at 8,300.00 or below
#         ✓ risk = yes
#       new: ID-1 脱贫不稳定户候选 〔示例 一(一)〕 — holds
#         ✓ kind = 脱贫户
#         ✓ pcni 8,400.00 ≤ income_line 8,700.00
#         ✓ risk = yes
#
#   ID-2 → none: 2 households
#     for example household H-07 (households.jsonl:7)
#       old: ID-2 边缘易致贫户候选 〔示例 一(一)〕 — holds
#         ✓ kind = 一般户
#         ✓ pcni 8,000.00 ≤ income_line 8,300.00
#         ✓ risk = yes
#       new: ID-2 边缘易致贫户候选 〔示例 一(一)〕 — does not hold
#         ✓ kind = 一般户
#         ✓ pcni 8,000.00 ≤ income_line 8,700.00
#         ✓ risk = yes
#         ✗ size 1 is below 2 by 1; holds at 2 or above
#
#   none → ID-2: 2 households
#     for example household H-09 (households.jsonl:9)
#       old: ID-2 边缘易致贫户候选 〔示例 一(一)〕 — does not hold
#         ✓ kind = 一般户
#         ✗ pcni 8,400.00 is above income_line 8,300.00 by 100.00; holds at 8,300.00 or below
#         ✓ risk = yes
#       new: ID-2 边缘易致贫户候选 〔示例 一(一)〕 — holds
#         ✓ kind = 一般户
#         ✓ pcni 8,400.00 ≤ income_line 8,700.00
#         ✓ risk = yes
#         ✓ size 2 ≥ 2
#
#   unchanged: 11 households
#
# households per conclusion (old → new):
#   ID-1  3 → 7 (+4)
#
# rejected records (first 5):
#   households.jsonl:19: income: 'income' (纯收入): -5 must be at least 0
#   households.jsonl:20: invalid JSON: Expecting value (col 1)
#
# sweep: income_line = 8000 … 9000, 3 values; 19 households, as of 2025-06-01 (2 rejected)
#   income_line | ID-1 | ID-2
#   ------------+------+-----
#   8000        |    3 |    1
#   8500        |    6 |    3
#   9000        |    7 |    3
#   unchanged counts: ID-1? (1)
# chart: {tmp}/chart.svg
