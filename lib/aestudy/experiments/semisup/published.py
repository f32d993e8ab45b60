"""The published anchors of the semi-supervised section: accuracies from the literature, never
computed here. Data, torch-free: the run's figure and the report's section both read them."""

PUBLISHED = {  # anchors from the literature (MNIST, 100 labels: accuracy = 1 - test error), never computed here
    "supervised Conv-Small (Rasmus et al. 2015, Table 2), published": 1 - 0.0643,
    "fully connected ladder, permutation-invariant (Rasmus et al. 2015, Table 1), published": 1 - 0.0106,
    "Conv-Small Γ-model (Rasmus et al. 2015, Table 2), published": 1 - 0.0089,
    "Improved GAN (Salimans et al. 2016), published": 1 - 0.0093,
}
