diff old.policy old.policy --households households.jsonl
# expected
# 政策文本: 规则和参数没有变化
#
# 判定的变化: 读取 21 户, 比较 19 户, 拒收 2 户, 评估日期 2024-06-05
#   没有一户的结论发生变化
#
#   结论不变: 19 户
#
# 拒收的记录 (前 5 条):
#   households.jsonl:19: income: 「income」(纯收入)的值 -5 不符合要求: 不能小于 0
#   households.jsonl:20: JSON 格式错误: Expecting value (第 1 列)
