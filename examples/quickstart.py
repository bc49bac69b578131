"""Tag a short French dispatch and print its statements, topics and evidence.

Run:  python examples/quickstart.py            (the sample below)
      python examples/quickstart.py FILE.txt   (your own UTF-8 text)
"""

from __future__ import annotations

import sys
from pathlib import Path

import bilatag

SAMPLE = """date 2025-02 Madrid et Nouakchott resserrent leur coopération face aux départs de cayucos
NOUAKCHOTT – Le ministre espagnol de l'Intérieur a été reçu lundi par son homologue mauritanien pour faire le point sur la route atlantique, où les arrivées aux Canaries ont encore progressé l'an dernier.
Les deux responsables ont convenu de renforcer les patrouilles conjointes de la Guardia Civil et de la garde côtière mauritanienne au large de Nouadhibou. «Ces réseaux exploitent la détresse des familles et nous les poursuivrons sans relâche», a déclaré le ministre espagnol.
La question des retours a également été abordée : Madrid souhaite accélérer la délivrance des laissez-passer consulaires pour les personnes faisant l'objet d'une mesure d'éloignement.
Les deux pays ont par ailleurs signé un accord de 40 millions d'euros pour moderniser le port de pêche de Nouadhibou.
"""


def main() -> None:
    text = Path(sys.argv[1]).read_text(encoding="utf-8") if len(sys.argv) > 1 else SAMPLE
    doc = bilatag.tag(text)
    print(f"date: {doc.date}   statements: {len(doc.statements)}   topics: {doc.topic_counts}\n")
    for s in doc.statements:
        topics = ", ".join(s.topics) or "(no topic)"
        print(f"[{s.start}:{s.end}] {topics}")
        print(f"    {s.text[:110]}{'…' if len(s.text) > 110 else ''}")
        for topic, evidence in s.evidence.items():
            why = "; ".join(f"{e.text!r} ({e.weight:+.2f}{', context' if e.source == 'context' else ''})"
                            for e in evidence)
            print(f"    {topic} ({s.scores[topic]:.2f}) because of {why}")


if __name__ == "__main__":
    main()
