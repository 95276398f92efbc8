"""Y-STR haplotypes and paternal-lineage likelihood ratios (pure computation, like the rest of `matching`).

loci.py       the Yfiler Plus loci and their YHRD mutation rates (data in `data/`, cited in CITATION.txt)
haplotype.py  a haplotype as labs write it, checked and folded to one canonical form
counting.py   the frequency of a haplotype in a database by counting, with an upper confidence bound
lineage.py    P(two haplotypes | same paternal line, g meioses) and the lineage LR
"""
