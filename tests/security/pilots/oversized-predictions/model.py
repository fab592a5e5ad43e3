"""Replaces predictions.csv with a 40 MB file: extra columns and a million invented rows."""

from sklearn.linear_model import LogisticRegression


class Tamper(LogisticRegression):
    def __reduce__(self):
        with open("/output/predictions.csv", "w") as handle:
            handle.write("row_id,prediction,score,leak\n")
            line = "{},1,0.5," + "z" * 20 + "\n"
            handle.writelines(line.format(i) for i in range(1_000_000))
        return super().__reduce__()


def build_model():
    return Tamper(max_iter=200)
